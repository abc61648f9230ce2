//! Reading stamp FITS files (gzip-compressed or not) with the pure-Rust `fitsrs` reader.

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest decompressed stamp accepted (64 MiB): a guard against gzip bombs.
pub const MAX_DECOMPRESSED_BYTES: u64 = 64 * 1024 * 1024;

/// A header value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HeaderValue {
    /// An integer.
    Integer(i64),
    /// A real number.
    Float(f64),
    /// `T` or `F`.
    Logical(bool),
    /// A string.
    Text(String),
    /// No value.
    Undefined,
}

impl HeaderValue {
    /// The value as a number (integers and reals).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            HeaderValue::Integer(i) => Some(*i as f64),
            HeaderValue::Float(f) => Some(*f),
            _ => None,
        }
    }
    /// The value as text (strings only).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HeaderValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One header keyword with its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeaderCard {
    /// The keyword (`NAXIS1`, `MAGZP`, ...).
    pub keyword: String,
    /// Its value.
    pub value: HeaderValue,
}

/// One image HDU: its header and its pixels (BSCALE/BZERO applied), row-major from the
/// first FITS row (`data[y * width + x]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitsImage {
    /// `NAXIS1`.
    pub width: usize,
    /// `NAXIS2` (times any further axes).
    pub height: usize,
    /// `BITPIX` as stored (-32 for ZTF's float32 stamps).
    pub bitpix: i32,
    /// The pixels as f64 (NaN kept).
    pub data: Vec<f64>,
    /// The header keywords with values, in order.
    pub header: Vec<HeaderCard>,
}

impl FitsImage {
    /// The value of a header keyword.
    pub fn header_value(&self, keyword: &str) -> Option<&HeaderValue> {
        self.header.iter().rev().find(|c| c.keyword.eq_ignore_ascii_case(keyword)).map(|c| &c.value)
    }
    /// The pixel at column `x`, row `y` (0-based), if inside the image.
    pub fn pixel(&self, x: usize, y: usize) -> Option<f64> {
        (x < self.width && y < self.height).then(|| self.data.get(y * self.width + x).copied()).flatten()
    }
    /// The pixels as rows.
    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks(self.width.max(1))
    }
}

/// Decompresses a gzip body (several members allowed); a body that is already FITS
/// (starts with `SIMPLE`) is returned as is.
pub fn gunzip_fits(body: &[u8]) -> Result<Vec<u8>> {
    if body.starts_with(b"SIMPLE") {
        return Ok(body.to_vec());
    }
    if !body.starts_with(&[0x1f, 0x8b]) {
        let head = broker_core::error::excerpt(&body[..body.len().min(120)]);
        return Err(Error::format("FITS stamp", format!("the body is neither gzip nor FITS (starts: {head:?})")));
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(body).take(MAX_DECOMPRESSED_BYTES + 1);
    dec.read_to_end(&mut out).map_err(|e| Error::format("gzip stream", e.to_string()))?;
    if out.len() as u64 > MAX_DECOMPRESSED_BYTES {
        return Err(Error::format(
            "gzip stream",
            format!("more than {MAX_DECOMPRESSED_BYTES} bytes once decompressed"),
        ));
    }
    Ok(out)
}

/// Reads every image HDU with data from FITS bytes (not compressed). ZTF stamps have one
/// (63×63, BITPIX -32); LSST cutouts may carry more (image, variance, PSF).
pub fn read_images(fits: &[u8]) -> Result<Vec<FitsImage>> {
    if !fits.starts_with(b"SIMPLE") {
        return Err(Error::format("FITS stamp", "the data does not start with a SIMPLE card"));
    }
    if let Some(card) = unclosed_string_card(fits) {
        return Err(Error::format(
            "FITS stamp",
            format!("header card {card} has a string value without its closing quote"),
        ));
    }
    // fitsrs is pure Rust but not hardened against every malformed file: keep a panic in
    // it from reaching the caller.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_images_inner(fits)));
    match parsed {
        Ok(r) => r,
        Err(_) => Err(Error::format("FITS stamp", "the FITS reader failed on malformed data")),
    }
}

/// The 1-based number of the first header card (before `END`) whose value is a string
/// with no closing quote: malformed FITS (4.2.1.1), and what makes fitsrs 0.4.1 slice out of
/// bounds (`parse_string` on a lone `'`, found by the `alerce_stamp` fuzz target). Refusing
/// it here keeps the reader from panicking at all; `catch_unwind` stays as the backstop.
fn unclosed_string_card(fits: &[u8]) -> Option<usize> {
    for (n, card) in fits.chunks_exact(80).enumerate() {
        let kw = card[..8].trim_ascii();
        let value = match kw {
            b"END" => return None,
            b"" | b"COMMENT" | b"HISTORY" => continue,
            b"HIERARCH" => match card[9..].iter().position(|&b| b == b'=') {
                Some(i) => &card[9 + i + 1..],
                None => continue,
            },
            b"CONTINUE" => &card[8..],
            _ if &card[8..10] == b"= " => &card[10..],
            _ => continue,
        };
        // Only printable ASCII counts, as in the reader.
        let mut chars = value.iter().copied().filter(|b| (0x20..=0x7e).contains(b)).skip_while(|&b| b == b' ');
        if chars.next() != Some(b'\'') {
            continue;
        }
        let mut closed = false;
        let mut after_quote = false;
        for b in chars {
            if b == b'\'' {
                // `''` inside a string is an escaped quote.
                after_quote = !after_quote;
                closed = after_quote;
            } else if after_quote {
                break;
            }
        }
        if !closed {
            return Some(n + 1);
        }
    }
    None
}

fn read_images_inner(fits: &[u8]) -> Result<Vec<FitsImage>> {
    use fitsrs::HDU;
    use fitsrs::card::{Card, Value};

    let hdus = fitsrs::Fits::from_reader(Cursor::new(fits));
    let mut out = Vec::new();
    for next in hdus {
        let hdu = match next {
            Ok(h) => h,
            Err(e) if out.is_empty() => return Err(Error::format("FITS stamp", e.to_string())),
            Err(_) => break,
        };
        let h = match &hdu {
            HDU::Primary(h) | HDU::XImage(h) => h,
            _ => continue,
        };
        let header = h.get_header();
        let x = header.get_xtension();
        let naxis = x.get_naxis().to_vec();
        let bitpix: i32 = match x.get_bitpix() {
            fitsrs::hdu::header::Bitpix::U8 => 8,
            fitsrs::hdu::header::Bitpix::I16 => 16,
            fitsrs::hdu::header::Bitpix::I32 => 32,
            fitsrs::hdu::header::Bitpix::I64 => 64,
            fitsrs::hdu::header::Bitpix::F32 => -32,
            fitsrs::hdu::header::Bitpix::F64 => -64,
        };
        let n: u64 = if naxis.is_empty() { 0 } else { naxis.iter().product() };
        if n == 0 {
            continue;
        }
        let cards: Vec<HeaderCard> = header
            .cards()
            .filter_map(|c| match c {
                Card::Value { name, value } | Card::Hierarch { name, value } => Some(HeaderCard {
                    keyword: name.trim().to_string(),
                    value: match value {
                        Value::Integer { value, .. } => HeaderValue::Integer(*value),
                        Value::Float { value, .. } => HeaderValue::Float(*value),
                        Value::Logical { value, .. } => HeaderValue::Logical(*value),
                        Value::String { value, .. } => HeaderValue::Text(value.trim_end().to_string()),
                        Value::Undefined | Value::Invalid(_) => HeaderValue::Undefined,
                    },
                }),
                _ => None,
            })
            .collect();
        let offset = h.get_data_unit_byte_offset() as usize;
        let bytes_per = (bitpix.unsigned_abs() / 8) as usize;
        let len = (n as usize).checked_mul(bytes_per).ok_or_else(|| Error::format("FITS stamp", "image too large"))?;
        let end = offset.checked_add(len).ok_or_else(|| Error::format("FITS stamp", "image too large"))?;
        let Some(raw) = fits.get(offset..end) else {
            return Err(Error::format(
                "FITS stamp",
                format!(
                    "the data unit is truncated: {len} bytes expected at offset {offset}, {} available",
                    fits.len().saturating_sub(offset)
                ),
            ));
        };
        let mut img = FitsImage {
            width: naxis[0] as usize,
            height: (n / naxis[0].max(1)) as usize,
            bitpix,
            data: decode_pixels(raw, bitpix),
            header: cards,
        };
        let scale = img.header_value("BSCALE").and_then(HeaderValue::as_f64).unwrap_or(1.0);
        let zero = img.header_value("BZERO").and_then(HeaderValue::as_f64).unwrap_or(0.0);
        if scale != 1.0 || zero != 0.0 {
            img.data.iter_mut().for_each(|v| *v = *v * scale + zero);
        }
        out.push(img);
    }
    if out.is_empty() {
        return Err(Error::format("FITS stamp", "no image with data in the file"));
    }
    Ok(out)
}

fn decode_pixels(raw: &[u8], bitpix: i32) -> Vec<f64> {
    match bitpix {
        8 => raw.iter().map(|b| f64::from(*b)).collect(),
        16 => raw.chunks_exact(2).map(|c| f64::from(i16::from_be_bytes([c[0], c[1]]))).collect(),
        32 => raw.chunks_exact(4).map(|c| f64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect(),
        64 => raw
            .chunks_exact(8)
            .map(|c| i64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64)
            .collect(),
        -32 => raw.chunks_exact(4).map(|c| f64::from(f32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect(),
        _ => {
            raw.chunks_exact(8).map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).collect()
        }
    }
}

/// Writes a minimal single-image FITS file (BITPIX -32), for tests and examples.
pub fn write_f32_fits(width: usize, height: usize, pixels: &[f32], extra_cards: &[(&str, &str)]) -> Vec<u8> {
    let mut cards: Vec<String> = vec![
        format!("{:<8}= {:>20}", "SIMPLE", "T"),
        format!("{:<8}= {:>20}", "BITPIX", -32),
        format!("{:<8}= {:>20}", "NAXIS", 2),
        format!("{:<8}= {:>20}", "NAXIS1", width),
        format!("{:<8}= {:>20}", "NAXIS2", height),
    ];
    for (k, v) in extra_cards {
        cards.push(format!("{k:<8}= {v:>20}"));
    }
    cards.push("END".to_string());
    let mut out = Vec::new();
    for c in cards {
        let mut line = c.into_bytes();
        line.resize(80, b' ');
        out.extend_from_slice(&line[..80]);
    }
    out.resize(out.len().div_ceil(2880) * 2880, b' ');
    for i in 0..width * height {
        out.extend_from_slice(&pixels.get(i).copied().unwrap_or(0.0).to_be_bytes());
    }
    out.resize(out.len().div_ceil(2880) * 2880, 0);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn card(text: &str) -> Vec<u8> {
        let mut c = text.as_bytes().to_vec();
        c.resize(80, b' ');
        c
    }

    #[test]
    fn a_string_value_without_its_closing_quote_is_refused_before_the_reader() {
        // The fuzzer's input that made fitsrs slice out of bounds (a HIERARCH card whose
        // value is a lone quote followed by control bytes).
        let crash: &[u8] = &[
            83, 73, 77, 80, 76, 69, 24, 42, 15, 0, 0, 0, 255, 255, 255, 204, 204, 204, 204, 204, 204, 204, 204, 204,
            204, 1, 0, 0, 0, 0, 0, 0, 1, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 206, 204, 204, 0, 16, 255,
            0, 0, 0, 0, 0, 0, 0, 0, 140, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204, 204,
            204, 204, 0, 16, 0, 255, 0, 72, 73, 69, 82, 65, 82, 67, 72, 220, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0,
            0, 0, 0, 0, 0, 84, 84, 84, 84, 84, 84, 84, 84, 84, 84, 0, 84, 84, 84, 255, 255, 255, 255, 255, 255, 255,
            255, 84, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 12, 0, 210, 1, 210, 255, 223, 140, 12, 12, 61, 39, 12,
            12, 12, 12, 12, 12, 12, 12,
        ];
        assert_eq!(unclosed_string_card(crash), Some(2));
        let e = read_images(crash).unwrap_err().to_string();
        assert!(e.contains("header card 2") && e.contains("closing quote"), "{e}");
        let head = |v: &str| [card("SIMPLE  =                    T"), card(v), card("END")].concat();
        assert_eq!(unclosed_string_card(&head("OBJECT  = '")), Some(2));
        assert_eq!(unclosed_string_card(&head("OBJECT  = 'it''s")), Some(2));
        assert_eq!(unclosed_string_card(&head("XTENSION= '")), Some(2));
        assert_eq!(unclosed_string_card(&head("CONTINUE  '")), Some(2));
        assert_eq!(unclosed_string_card(&head("HIERARCH ESO DET = '")), Some(2));
        // Well-formed strings pass, escaped quotes and slashes inside included.
        assert_eq!(unclosed_string_card(&head("OBJECT  = 'it''s a/b' / comment")), None);
        assert_eq!(unclosed_string_card(&head("OBJECT  = ''")), None);
        assert_eq!(unclosed_string_card(&head("COMMENT   ' alone is fine in a comment")), None);
        assert_eq!(unclosed_string_card(&write_f32_fits(2, 2, &[1.0, 2.0, 3.0, 4.0], &[("OBJECT", "'ZTF'")])), None);
    }

    fn gz(b: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_a_ztf_like_stamp() {
        let px: Vec<f32> = (0..63 * 63).map(|i| i as f32 * 0.5).collect();
        let fits = write_f32_fits(63, 63, &px, &[("MAGZP", "26.325"), ("FILTER", "'ZTF_r   '")]);
        assert_eq!(fits.len(), 2880 + 15_880usize.div_ceil(2880) * 2880);
        let raw = gunzip_fits(&gz(&fits)).unwrap();
        assert_eq!(raw, fits);
        let imgs = read_images(&raw).unwrap();
        assert_eq!(imgs.len(), 1);
        let im = &imgs[0];
        assert_eq!((im.width, im.height, im.bitpix), (63, 63, -32));
        assert_eq!(im.pixel(1, 0), Some(0.5));
        assert_eq!(im.pixel(0, 1), Some(31.5));
        assert_eq!(im.pixel(63, 0), None);
        assert_eq!(im.header_value("MAGZP").and_then(HeaderValue::as_f64), Some(26.325));
        assert_eq!(im.header_value("FILTER").and_then(HeaderValue::as_str), Some("ZTF_r"));
    }

    #[test]
    fn rejects_junk_and_truncation_without_panicking() {
        assert!(matches!(gunzip_fits(b"<html>404</html>"), Err(Error::Format { .. })));
        assert!(gunzip_fits(&[0x1f, 0x8b, 1, 2, 3]).is_err());
        let fits = write_f32_fits(63, 63, &[1.0; 10], &[]);
        assert!(read_images(&fits[..4000]).is_err());
        assert!(read_images(b"SIMPLE  = junk").is_err());
        assert!(read_images(b"not fits").is_err());
    }
}
