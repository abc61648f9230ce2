//! Classifications: `/api/classification` and `/api/sources/{obj_id}/classifications`.

use broker_core::paginate::ItemStream;
use broker_core::{Error, Request, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::{Client, ListSpec, check_page_size};
use crate::models::Classification;
use crate::params::{QueryParams, query_setters};
use crate::sources::failed_stream;
use crate::validate;

/// Largest `numPerPage` for `/api/classification`.
pub const MAX_CLASSIFICATIONS_PER_PAGE: u64 = 500;

/// Classification endpoints; from [`Client::classifications`].
#[derive(Debug, Clone)]
pub struct Classifications {
    client: Client,
}

impl Client {
    /// Classification endpoints.
    pub fn classifications(&self) -> Classifications {
        Classifications { client: self.clone() }
    }
}

#[derive(Deserialize)]
struct ClassificationIdReply {
    classification_id: i64,
}

#[derive(Deserialize)]
struct ClassificationIdsReply {
    #[serde(default)]
    classification_ids: Vec<i64>,
}

impl Classifications {
    /// All classifications, paged (`pageNumber`/`numPerPage`, list key
    /// `classifications`, `totalMatches`); see [`ClassificationList`].
    pub fn list(&self) -> ClassificationList {
        ClassificationList {
            client: self.client.clone(),
            q: QueryParams::default(),
            page_size: MAX_CLASSIFICATIONS_PER_PAGE,
        }
    }

    /// A source's classifications: `GET /api/sources/{obj_id}/classifications`.
    pub async fn for_source(&self, obj_id: &str) -> Result<Vec<Classification>> {
        let id = validate::obj_id(obj_id)?;
        self.client.data(Request::get(format!("api/sources/{id}/classifications"))).await
    }

    /// One classification: `GET /api/classification/{id}`.
    pub async fn get(&self, id: i64) -> Result<Classification> {
        self.client.data(Request::get(format!("api/classification/{id}"))).await
    }

    /// Classifies an object: `POST /api/classification` → the classification id.
    pub async fn create(&self, c: &NewClassification) -> Result<i64> {
        c.validate()?;
        let r: ClassificationIdReply = self.client.data(Request::post("api/classification").json(c)).await?;
        Ok(r.classification_id)
    }

    /// Classifies several objects in one request: `POST /api/classification` with
    /// `{"classifications": [...]}` → the ids, in order.
    pub async fn create_many(&self, cs: &[NewClassification]) -> Result<Vec<i64>> {
        if cs.is_empty() {
            return Err(Error::invalid("classifications", "give at least one classification"));
        }
        for (i, c) in cs.iter().enumerate() {
            c.validate().map_err(|e| match e {
                Error::InvalidInput { field, message } => {
                    Error::invalid(format!("classifications[{i}].{field}"), message)
                }
                other => other,
            })?;
        }
        let body = serde_json::json!({ "classifications": cs });
        let r: ClassificationIdsReply = self.client.data(Request::post("api/classification").json(&body)).await?;
        Ok(r.classification_ids)
    }

    /// Changes a classification: `PUT /api/classification/{id}` with the fields set.
    ///
    /// The server writes `ml = data.get("ml", False)` on every update, so an update without
    /// `ml` would turn a machine-learning classification into a human one. When
    /// [`ClassificationUpdate::ml`] is `None`, this first reads the classification
    /// (`GET /api/classification/{id}`) and sends its current `ml` back.
    pub async fn update(&self, id: i64, changes: &ClassificationUpdate) -> Result<()> {
        if let Some(p) = changes.probability {
            check_probability(p)?;
        }
        let empty =
            serde_json::to_value(changes).ok().and_then(|v| v.as_object().map(|m| m.is_empty())).unwrap_or(true);
        if empty {
            return Err(Error::invalid("changes", "nothing to update: set at least one field"));
        }
        let mut body = changes.clone();
        if body.ml.is_none() {
            body.ml = Some(self.get(id).await?.ml.unwrap_or(false));
        }
        self.client.ok(Request::put(format!("api/classification/{id}")).json(&body)).await
    }

    /// Deletes a classification: `DELETE /api/classification/{id}`.
    pub async fn delete(&self, id: i64) -> Result<()> {
        self.client.ok(Request::delete(format!("api/classification/{id}"))).await
    }
}

fn check_probability(p: f64) -> Result<()> {
    if p.is_finite() && (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid("probability", format!("{p} is not a probability: use a number in [0, 1]")))
    }
}

/// `GET /api/classification`, paged.
#[derive(Debug, Clone)]
pub struct ClassificationList {
    client: Client,
    q: QueryParams,
    page_size: u64,
}

impl ClassificationList {
    /// Items per page, 1 to 500 (default 500).
    pub fn page_size(mut self, n: u64) -> Self {
        match check_page_size(n, MAX_CLASSIFICATIONS_PER_PAGE) {
            Ok(n) => self.page_size = n,
            Err(e) => self.q.fail(e),
        }
        self
    }

    query_setters! {
        /// Created on or after this date (Arrow-parseable).
        start_date: str = "startDate";
        /// Created on or before this date.
        end_date: str = "endDate";
        /// Include each classification's taxonomy.
        include_taxonomy: bool = "includeTaxonomy";
    }

    /// Every matching classification.
    pub fn stream(self) -> ItemStream<Classification> {
        if let Err(e) = self.q.check() {
            return failed_stream(e);
        }
        let mut spec = ListSpec::new("api/classification", Some("classifications"), self.page_size);
        spec.query = self.q.pairs.clone();
        self.client.stream(spec)
    }
}

/// The body of `POST /api/classification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewClassification {
    /// Object id.
    pub obj_id: String,
    /// The class (`Ia`), as named in the taxonomy.
    pub classification: String,
    /// Taxonomy id.
    pub taxonomy_id: i64,
    /// Probability in [0, 1].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Groups that can see it. Unset (or empty), the server uses its public group
    /// (`misc.public_group_name`, "Sitewide Group" by default), not the token's groups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<i64>>,
    /// Origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Machine-learning classification?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ml: Option<bool>,
    /// Also add an up-vote?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vote: Option<bool>,
    /// Also label the source as seen?
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<bool>,
    /// Any other field.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

impl NewClassification {
    /// A classification with a probability.
    pub fn new(
        obj_id: impl Into<String>,
        classification: impl Into<String>,
        taxonomy_id: i64,
        probability: Option<f64>,
    ) -> Self {
        NewClassification {
            obj_id: obj_id.into(),
            classification: classification.into(),
            taxonomy_id,
            probability,
            ..Default::default()
        }
    }

    fn validate(&self) -> Result<()> {
        validate::obj_id(&self.obj_id)?;
        validate::non_empty("classification", &self.classification)?;
        if let Some(p) = self.probability {
            check_probability(p)?;
        }
        Ok(())
    }
}

/// The body of `PUT /api/classification/{id}`: only the fields set are sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClassificationUpdate {
    /// The class.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// Taxonomy id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub taxonomy_id: Option<i64>,
    /// Probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Groups that can see it (replaces the current groups).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<i64>>,
    /// Machine-learning classification? The server resets it to false when it is not
    /// sent; [`Classifications::update`] sends the current value when this is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ml: Option<bool>,
}
