//! Minimal FITS writer: one primary HDU with a float32 image (BITPIX = -32).

/// Writes a FITS primary HDU holding `data` (`nx` by `ny`, row-major, big-endian float32).
pub(crate) fn image_f32(nx: usize, ny: usize, data: &[f32], extra: &[(&str, String)]) -> Vec<u8> {
    let mut cards: Vec<String> = vec![
        card("SIMPLE", "T", "conforms to FITS standard"),
        card("BITPIX", "-32", "array data type"),
        card("NAXIS", "2", "number of array dimensions"),
        card("NAXIS1", &nx.to_string(), ""),
        card("NAXIS2", &ny.to_string(), ""),
    ];
    for (k, v) in extra {
        cards.push(card(k, v, ""));
    }
    cards.push(format!("{:<80}", "END"));
    let mut out: Vec<u8> = cards.concat().into_bytes();
    pad(&mut out, b' ');
    for v in data.iter().take(nx * ny) {
        out.extend_from_slice(&v.to_be_bytes());
    }
    pad(&mut out, 0);
    out
}

fn card(key: &str, value: &str, comment: &str) -> String {
    let s = if comment.is_empty() {
        format!("{key:<8}= {value:>20}")
    } else {
        format!("{key:<8}= {value:>20} / {comment}")
    };
    let mut s: String = s.chars().take(80).collect();
    while s.len() < 80 {
        s.push(' ');
    }
    s
}

fn pad(v: &mut Vec<u8>, byte: u8) {
    while v.len() % 2880 != 0 {
        v.push(byte);
    }
}

/// A FITS string value, quoted.
pub(crate) fn fits_str(s: &str) -> String {
    format!("'{:<8}'", s.replace('\'', "''"))
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// An 8-bit greyscale PNG of a float image (linear stretch between min and max).
pub(crate) fn png_gray(nx: usize, ny: usize, data: &[f32]) -> Vec<u8> {
    use std::io::Write;
    let lo = data.iter().copied().fold(f32::MAX, f32::min);
    let hi = data.iter().copied().fold(f32::MIN, f32::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut raw = Vec::with_capacity((nx + 1) * ny);
    for y in 0..ny {
        raw.push(0u8);
        for x in 0..nx {
            let v = data.get(y * nx + x).copied().unwrap_or(lo);
            raw.push(((v - lo) / span * 255.0) as u8);
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], body: &[u8]| {
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        let mut c = kind.to_vec();
        c.extend_from_slice(body);
        out.extend_from_slice(&c);
        out.extend_from_slice(&crc32(&c).to_be_bytes());
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(nx as u32).to_be_bytes());
    ihdr.extend_from_slice(&(ny as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(b"IHDR", &ihdr);
    chunk(b"IDAT", &idat);
    chunk(b"IEND", &[]);
    out
}

fn zigzag(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        if n & !0x7F == 0 {
            out.push(n as u8);
            break;
        }
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
}

fn avro_bytes(out: &mut Vec<u8>, b: &[u8]) {
    zigzag(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// A minimal but valid Avro object container with one ZTF-like alert record (a small subset
/// of the ZTF alert schema: ids, a candidate with photometry, and the science cutout).
pub(crate) fn avro_alert(oid: &str, candid: u64, p: &crate::sky::Point, ra: f64, dec: f64, stamp_gz: &[u8]) -> Vec<u8> {
    let schema = r#"{"type":"record","name":"alert","namespace":"ztf","fields":[{"name":"schemavsn","type":"string"},{"name":"publisher","type":"string"},{"name":"objectId","type":"string"},{"name":"candid","type":"long"},{"name":"candidate","type":{"type":"record","name":"candidate","fields":[{"name":"jd","type":"double"},{"name":"fid","type":"int"},{"name":"candid","type":"long"},{"name":"magpsf","type":"float"},{"name":"sigmapsf","type":"float"},{"name":"diffmaglim","type":"float"},{"name":"ra","type":"double"},{"name":"dec","type":"double"}]}},{"name":"cutoutScience","type":{"type":"record","name":"cutout","fields":[{"name":"fileName","type":"string"},{"name":"stampData","type":"bytes"}]}}]}"#;
    let mut sync = [0u8; 16];
    for (i, b) in sync.iter_mut().enumerate() {
        *b = (crate::rng::mix(candid ^ i as u64) & 0xFF) as u8;
    }
    let mut out = b"Obj\x01".to_vec();
    zigzag(&mut out, 2);
    avro_bytes(&mut out, b"avro.schema");
    avro_bytes(&mut out, schema.as_bytes());
    avro_bytes(&mut out, b"avro.codec");
    avro_bytes(&mut out, b"null");
    zigzag(&mut out, 0);
    out.extend_from_slice(&sync);
    let mut rec = Vec::new();
    avro_bytes(&mut rec, b"3.3");
    avro_bytes(&mut rec, b"broker-sandbox (synthetic)");
    avro_bytes(&mut rec, oid.as_bytes());
    zigzag(&mut rec, candid as i64);
    rec.extend_from_slice(&(p.mjd + 2_400_000.5).to_le_bytes());
    zigzag(
        &mut rec,
        match p.band {
            "g" => 1,
            "r" => 2,
            _ => 3,
        },
    );
    zigzag(&mut rec, candid as i64);
    let mag = crate::sky::flux_to_mag(p.flux) as f32;
    rec.extend_from_slice(&mag.to_le_bytes());
    rec.extend_from_slice(&((1.0857 * p.flux_err / p.flux.abs()) as f32).to_le_bytes());
    rec.extend_from_slice(&(p.limit as f32).to_le_bytes());
    rec.extend_from_slice(&ra.to_le_bytes());
    rec.extend_from_slice(&dec.to_le_bytes());
    avro_bytes(&mut rec, format!("candid{candid}_pid{}_targ_sci.fits.gz", candid / 1_000_000).as_bytes());
    avro_bytes(&mut rec, stamp_gz);
    zigzag(&mut out, 1);
    zigzag(&mut out, rec.len() as i64);
    out.extend_from_slice(&rec);
    out.extend_from_slice(&sync);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamp_size_matches_ztf_fixture() {
        let d = vec![0f32; 63 * 63];
        let f = super::image_f32(63, 63, &d, &[]);
        assert_eq!(f.len(), 20160);
        assert!(f.starts_with(b"SIMPLE  =                    T"));
    }
}
