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
