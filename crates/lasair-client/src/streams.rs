//! ZTF `streams/`: the stored output of Lasair filters (an alternative to Kafka).
//!
//! **Legacy route.** `lsst-uk/lasair4` routed `api/streams/` and
//! `api/streams/<slug:topic>/` (`webserver/lasairapi/urls.py` up to commit `ffe5f4d`,
//! `StreamsSerializer`: `topic` a slug, `limit`, `regex`); commit `cf56c61`
//! (2025-01-24) removed both, and the LSST server never had them. A current server
//! answers 404 ([`crate::Error::NotFound`]); these calls are kept for deployments that
//! still serve them. The server's `api.html` still documents them.
//!
//! Replies: a topic list `[{"topic", "more_info"}]` (or `{"topics": [], "info": ...}`
//! for a regex that does not compile), and for a topic the filter's digest rows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Ztf, read};
use crate::error::{Error, Result};

/// One stream (filter topic).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StreamTopic {
    /// The Kafka topic name (`2SN-likecandidates`).
    pub topic: String,
    /// The filter's web page.
    #[serde(default)]
    pub more_info: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TopicsReply {
    List(Vec<StreamTopic>),
    Info {
        #[serde(default)]
        topics: Vec<StreamTopic>,
        #[serde(default)]
        info: Option<String>,
    },
}

impl Ztf<'_> {
    /// Topics whose name matches `regex` (`POST streams/`, form `regex`; every topic
    /// when `None`). A regex the server cannot compile is [`Error::Rejected`].
    pub async fn stream_topics(&self, regex: Option<&str>) -> Result<Vec<StreamTopic>> {
        let reply: TopicsReply = self.api.send(read("streams/").form_opt("regex", regex)).await?;
        match reply {
            TopicsReply::List(l) => Ok(l),
            TopicsReply::Info { info: Some(info), topics } if topics.is_empty() => {
                Err(Error::Rejected { message: info.clone(), raw: info, url: "streams/".into() })
            }
            TopicsReply::Info { topics, .. } => Ok(topics),
        }
    }

    /// The recorded output of one stream (`POST streams/<topic>/`, form `limit` when set).
    pub async fn stream(&self, topic: &str, limit: Option<u64>) -> Result<Vec<Map<String, Value>>> {
        let ok = !topic.is_empty() && topic.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(Error::invalid(
                "topic",
                format!("{topic:?} is not a stream topic: letters, digits, - and _ only"),
            ));
        }
        self.api.send(read(&format!("streams/{topic}/")).form_opt("limit", limit)).await
    }
}
