//! Decoding avro alert packets (feature `avro`, with `apache-avro`).

use apache_avro::types::Value as Avro;
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};
use crate::stamps::{Stamp, StampKind};

/// An avro object container file: its embedded schema and its records.
#[derive(Debug, Clone)]
pub struct AvroPacket {
    /// The writer schema embedded in the file, as JSON.
    pub schema: Value,
    /// The records (a ZTF alert packet holds one).
    pub records: Vec<Avro>,
}

impl AvroPacket {
    /// Decodes an object container file (null or deflate codec).
    pub fn parse(bytes: &[u8]) -> Result<AvroPacket> {
        let reader = apache_avro::Reader::new(bytes).map_err(|e| Error::format("avro packet", e.to_string()))?;
        let schema = serde_json::from_str(&reader.writer_schema().canonical_form()).unwrap_or(Value::Null);
        let records = reader
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::format("avro packet", e.to_string()))?;
        Ok(AvroPacket { schema, records })
    }

    /// The records as JSON (bytes become arrays of numbers; NaN and infinities become null).
    pub fn to_json(&self) -> Vec<Value> {
        self.records.iter().map(avro_to_json).collect()
    }

    /// The field of the first record, by dotted path (`candidate.magpsf`).
    pub fn field(&self, path: &str) -> Option<&Avro> {
        let mut cur = self.records.first()?;
        for part in path.split('.') {
            cur = unwrap_union(cur);
            match cur {
                Avro::Record(fields) => cur = fields.iter().find(|(k, _)| k == part).map(|(_, v)| v)?,
                Avro::Map(m) => cur = m.get(part)?,
                _ => return None,
            }
        }
        Some(unwrap_union(cur))
    }

    /// A cutout of a ZTF alert (`cutoutScience.stampData`, gzip-compressed FITS), read.
    pub fn cutout(&self, kind: StampKind) -> Result<Stamp> {
        let path = format!("{}.stampData", kind.cutout_name());
        match self.field(&path) {
            Some(Avro::Bytes(b)) | Some(Avro::Fixed(_, b)) => Stamp::from_body(kind, b),
            _ => Err(Error::format("avro packet", format!("no `{path}` bytes in the alert"))),
        }
    }
}

fn unwrap_union(v: &Avro) -> &Avro {
    match v {
        Avro::Union(_, inner) => unwrap_union(inner),
        other => other,
    }
}

fn num(f: f64) -> Value {
    Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
}

/// One avro value as JSON.
pub fn avro_to_json(v: &Avro) -> Value {
    match v {
        Avro::Null => Value::Null,
        Avro::Boolean(b) => Value::Bool(*b),
        Avro::Int(i) | Avro::Date(i) | Avro::TimeMillis(i) => Value::from(*i),
        Avro::Long(l)
        | Avro::TimeMicros(l)
        | Avro::TimestampMillis(l)
        | Avro::TimestampMicros(l)
        | Avro::TimestampNanos(l)
        | Avro::LocalTimestampMillis(l)
        | Avro::LocalTimestampMicros(l)
        | Avro::LocalTimestampNanos(l) => Value::from(*l),
        Avro::Float(f) => num(f64::from(*f)),
        Avro::Double(d) => num(*d),
        Avro::Bytes(b) | Avro::Fixed(_, b) => Value::Array(b.iter().map(|x| Value::from(*x)).collect()),
        Avro::String(s) | Avro::Enum(_, s) => Value::String(s.clone()),
        Avro::Union(_, inner) => avro_to_json(inner),
        Avro::Array(items) => Value::Array(items.iter().map(avro_to_json).collect()),
        Avro::Map(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), m.get(k).map(avro_to_json).unwrap_or(Value::Null)))
                    .collect::<Map<_, _>>(),
            )
        }
        Avro::Record(fields) => Value::Object(fields.iter().map(|(k, v)| (k.clone(), avro_to_json(v))).collect()),
        Avro::Uuid(u) => Value::String(u.to_string()),
        other => Value::String(format!("{other:?}")),
    }
}
