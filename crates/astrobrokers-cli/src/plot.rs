//! Light-curve plots as PNG, drawn with plotters and a bundled font (no system fonts needed).
//!
//! Magnitude (inverted axis) against MJD by default, or flux in µJy; one colour per band,
//! downward triangles for upper limits, one marker shape per broker.

use std::path::Path;

use anyhow::{Context, Result, anyhow};
use broker_core::{Band, Lightcurve};
use plotters::prelude::*;
use plotters::style::FontStyle;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// What the y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YAxis {
    /// AB magnitude, brighter up.
    Magnitude,
    /// Flux in µJy.
    Flux,
}

fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Registration fails only for an invalid font file, which is bundled and tested.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// The colour of a band (the usual ZTF g/r/i, ATLAS c/o, LSST ugrizy).
pub fn band_colour(b: &Band) -> RGBColor {
    match b {
        Band::ZtfG | Band::LsstG => RGBColor(0x2c, 0xa0, 0x2c),
        Band::ZtfR | Band::LsstR => RGBColor(0xd6, 0x27, 0x28),
        Band::ZtfI | Band::LsstI => RGBColor(0x8c, 0x56, 0x4b),
        Band::AtlasC => RGBColor(0x17, 0xbe, 0xcf),
        Band::AtlasO => RGBColor(0xff, 0x7f, 0x0e),
        Band::LsstU => RGBColor(0x94, 0x67, 0xbd),
        Band::LsstZ => RGBColor(0x7f, 0x7f, 0x7f),
        Band::LsstY => RGBColor(0x1f, 0x1f, 0x1f),
        Band::Other(_) => RGBColor(0x1f, 0x77, 0xb4),
    }
}

/// Magnitude error bars are drawn at most this long.
const MAX_MAG_ERR: f64 = 0.75;
/// Detections with a larger magnitude error do not widen the y range.
const GOOD_MAG_ERR: f64 = 0.3;

/// The marker of a broker's detections.
#[derive(Debug, Clone, Copy)]
enum Marker {
    Circle,
    Cross,
    Triangle,
    Square,
}

fn marker_of(broker: &str, index: usize) -> Marker {
    match broker {
        "alerce" => Marker::Circle,
        "atlas" => Marker::Cross,
        "skyportal" => Marker::Triangle,
        "forcedphot" => Marker::Square,
        _ => [Marker::Circle, Marker::Cross, Marker::Triangle, Marker::Square][index % 4],
    }
}

/// Draws `lc` into a PNG at `path` (`width` x `height` pixels).
pub fn plot_lightcurve(lc: &Lightcurve, title: &str, y: YAxis, path: &Path, width: u32, height: u32) -> Result<()> {
    register_font();
    let value = |p: &broker_core::PhotometryPoint| -> Option<f64> {
        match y {
            YAxis::Magnitude => {
                if p.is_detection() {
                    p.mag
                } else {
                    p.limiting_mag
                }
            }
            YAxis::Flux => p.flux_ujy,
        }
    };
    let pts: Vec<_> = lc.points.iter().filter_map(|p| value(p).filter(|v| v.is_finite()).map(|v| (p, v))).collect();
    if pts.is_empty() {
        return Err(anyhow!(
            "nothing to plot: the light curve has no {} values",
            match y {
                YAxis::Magnitude => "magnitude",
                YAxis::Flux => "flux",
            }
        ));
    }
    // Error bars are capped so that a few noisy points do not squash the plot, and the
    // y range comes from the well-measured points and the limits.
    let cap = |p: &broker_core::PhotometryPoint| -> f64 {
        match y {
            YAxis::Magnitude => p.mag_err.unwrap_or(0.0).min(MAX_MAG_ERR),
            YAxis::Flux => p.flux_err_ujy.unwrap_or(0.0),
        }
    };
    let good = |p: &broker_core::PhotometryPoint| -> bool {
        match y {
            YAxis::Magnitude => !p.is_detection() || p.mag_err.is_none_or(|e| e <= GOOD_MAG_ERR),
            YAxis::Flux => true,
        }
    };
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for (p, v) in &pts {
        x0 = x0.min(p.mjd);
        x1 = x1.max(p.mjd);
        if good(p) {
            y0 = y0.min(v - cap(p));
            y1 = y1.max(v + cap(p));
        }
    }
    if !y0.is_finite() || !y1.is_finite() {
        for (p, v) in &pts {
            y0 = y0.min(v - cap(p));
            y1 = y1.max(v + cap(p));
        }
    }
    let xpad = ((x1 - x0) * 0.04).max(1.0);
    let ypad = ((y1 - y0) * 0.08).max(0.1);
    let (x0, x1) = (x0 - xpad, x1 + xpad);
    let (lo, hi) = (y0 - ypad, y1 + ypad);
    // Points outside the range (very noisy ones) are left out of the picture.
    let pts: Vec<_> = pts.into_iter().filter(|(_, v)| (lo..=hi).contains(v)).collect();

    let root = BitMapBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
    let y_range = match y {
        YAxis::Magnitude => hi..lo, // inverted: brighter (smaller) up
        YAxis::Flux => lo..hi,
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y_range)
        .map_err(|e| anyhow!("plot: {e}"))?;
    chart
        .configure_mesh()
        .x_desc("MJD")
        .y_desc(match y {
            YAxis::Magnitude => "AB magnitude",
            YAxis::Flux => "flux (µJy)",
        })
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.1}"))
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(|e| anyhow!("plot: {e}"))?;

    let brokers = {
        let mut b: Vec<&str> = lc.points.iter().map(|p| p.broker.as_str()).collect();
        b.sort_unstable();
        b.dedup();
        b
    };
    for band in lc.bands() {
        let colour = band_colour(&band);
        for (bi, broker) in brokers.iter().enumerate() {
            let sel: Vec<_> = pts.iter().filter(|(p, _)| p.band == band && p.broker == *broker).collect();
            if sel.is_empty() {
                continue;
            }
            // Error bars for detections (capped, clipped to the range).
            chart
                .draw_series(sel.iter().filter(|(p, _)| p.is_detection()).filter_map(|(p, v)| {
                    let e = match y {
                        YAxis::Magnitude => p.mag_err?.min(MAX_MAG_ERR),
                        YAxis::Flux => p.flux_err_ujy?,
                    };
                    Some(PathElement::new(vec![(p.mjd, (v - e).max(lo)), (p.mjd, (v + e).min(hi))], colour.mix(0.5)))
                }))
                .map_err(|e| anyhow!("plot: {e}"))?;
            let marker = marker_of(broker, bi);
            let detections: Vec<(f64, f64)> =
                sel.iter().filter(|(p, _)| p.is_detection()).map(|(p, v)| (p.mjd, *v)).collect();
            let label = format!("{band} ({broker})");
            let d = detections.into_iter();
            let series = match marker {
                Marker::Circle => chart.draw_series(d.map(|c| Circle::new(c, 4, colour.filled()))),
                Marker::Cross => chart.draw_series(d.map(|c| Cross::new(c, 4, colour.stroke_width(2)))),
                Marker::Triangle => chart.draw_series(d.map(|c| TriangleMarker::new(c, 5, colour.filled()))),
                Marker::Square => chart
                    .draw_series(d.map(|c| EmptyElement::at(c) + Rectangle::new([(-3, -3), (3, 3)], colour.filled()))),
            }
            .map_err(|e| anyhow!("plot: {e}"))?;
            let series = series.label(label);
            match marker {
                Marker::Circle => series.legend(move |c| EmptyElement::at(c) + Circle::new((0, 0), 4, colour.filled())),
                Marker::Cross => {
                    series.legend(move |c| EmptyElement::at(c) + Cross::new((0, 0), 4, colour.stroke_width(2)))
                }
                Marker::Triangle => {
                    series.legend(move |c| EmptyElement::at(c) + TriangleMarker::new((0, 0), 5, colour.filled()))
                }
                Marker::Square => {
                    series.legend(move |c| EmptyElement::at(c) + Rectangle::new([(-3, -3), (3, 3)], colour.filled()))
                }
            };
            // Upper limits: downward triangles (in magnitude the limit is faint = lower).
            let limits: Vec<(f64, f64)> =
                sel.iter().filter(|(p, _)| !p.is_detection()).map(|(p, v)| (p.mjd, *v)).collect();
            if !limits.is_empty() {
                chart
                    .draw_series(limits.into_iter().map(|c| {
                        EmptyElement::at(c) + Polygon::new(vec![(-4, -3), (4, -3), (0, 4)], colour.mix(0.35).filled())
                    }))
                    .map_err(|e| anyhow!("plot: {e}"))?;
            }
        }
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| anyhow!("plot: {e}"))?;
    root.present().with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_core::PhotometryPoint;

    fn sample() -> Lightcurve {
        let mut pts = Vec::new();
        for i in 0..30 {
            let t = 60000.0 + f64::from(i) * 2.0;
            let m = 17.0 + ((t - 60020.0) / 12.0).powi(2).min(3.0);
            pts.push(PhotometryPoint::from_mag("alerce", "ztf", "ZTF18abcdefg", t, Band::ZtfG, m, Some(0.05)));
            pts.push(PhotometryPoint::from_mag(
                "alerce",
                "ztf",
                "ZTF18abcdefg",
                t + 0.3,
                Band::ZtfR,
                m - 0.3,
                Some(0.05),
            ));
            pts.push(PhotometryPoint::from_flux(
                "forcedphot",
                "atlas",
                "x",
                t + 0.7,
                Band::AtlasO,
                10f64.powf((23.9 - m + 0.1) / 2.5),
                8.0,
                3.0,
                3.0,
            ));
        }
        pts.push(PhotometryPoint::limit("atlas", "atlas", "1", 59990.0, Band::AtlasC, 19.8));
        pts.push(PhotometryPoint::limit("atlas", "atlas", "1", 59994.0, Band::AtlasC, 19.6));
        Lightcurve::merge([Lightcurve::from_points(pts)])
    }

    #[test]
    fn writes_a_png_with_coloured_points() {
        let dir = std::env::temp_dir().join(format!("ab-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lc.png");
        plot_lightcurve(&sample(), "ZTF18abcdefg", YAxis::Magnitude, &path, 900, 600).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert!(bytes.len() > 5_000, "a real plot, not an empty canvas: {} bytes", bytes.len());
        plot_lightcurve(&sample(), "flux", YAxis::Flux, &dir.join("flux.png"), 900, 600).unwrap();
        assert!(plot_lightcurve(&Lightcurve::new(), "empty", YAxis::Magnitude, &dir.join("e.png"), 100, 100).is_err());
        if std::env::var_os("AB_KEEP_PLOT").is_some() {
            std::fs::copy(&path, "/tmp/ab-plot.png").unwrap();
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
