//! Marking the same exposure served twice (alert vs forced photometry, a broker re-serving
//! another's points) so that a merged light curve does not count it as two independent
//! measurements.
//!
//! # The rule
//!
//! Two points are the same measurement when they have
//!
//! 1. the same survey (`ztf`, `atlas`, `lsst`, ...; compared without case),
//! 2. the same band, and
//! 3. MJDs within [`DEFAULT_TOLERANCE_DAYS`] (1e-4 d = 8.6 s) of each other,
//!
//! and they come from different sources (a source is a broker and an origin: `alerce/alert`
//! and `alerce/forced` are two sources). Points of one source never duplicate each other.
//!
//! Why 1e-4 d: one exposure reaches us with the same MJD to about 1e-5 d from every
//! service (ZTF's `jd` is given to 1e-6 d, the ATLAS files print MJD to 1e-6 d, LSST's
//! `midpointMjdTai` is a double), while two distinct exposures of one survey in one band
//! are at least one exposure plus read-out apart (30 s + ~8 s for ZTF and ATLAS, 30 s + 2 s
//! for an LSST visit: 3.7e-4 d or more). 1e-4 d sits ten times above the first and more
//! than three times below the second. A service that stamps mid-exposure while another
//! stamps the start (15 s = 1.7e-4 d for 30 s exposures) would not collapse: widen the
//! tolerance with [`DedupOptions::tolerance_days`] for such a pair.
//!
//! In each group one point is kept and every other one gets
//! [`PhotometryPoint::duplicate_of`] set to the kept point's
//! [`PhotometryPoint::provenance_key`]. Which one is kept is the [`DedupPolicy`]:
//! [`DedupPolicy::KeepForced`] prefers forced photometry (measured at a fixed position,
//! with a flux even when faint), [`DedupPolicy::KeepAlert`] prefers the alert; reported
//! photometry comes last for both. Ties go to the broker name, then the object id, in
//! alphabetical order, so the choice does not depend on the order the services answered.
//! [`DedupPolicy::None`] marks nothing. Nothing is removed: [`Lightcurve::without_duplicates`]
//! gives the kept points.
//!
//! The group ignores [`Measurement`](super::Measurement): a difference-image magnitude and
//! an apparent one of the same exposure are still one exposure. The kept point's
//! `measurement` column says which it is.
//!
//! ```
//! use broker_core::astro::{Band, Lightcurve, Origin, PhotometryPoint};
//! use broker_core::astro::dedup::DedupPolicy;
//!
//! let alert = PhotometryPoint::from_mag("alerce", "ztf", "ZTF23abc", 60100.312345, Band::ZtfR, 18.2, Some(0.05));
//! let forced = PhotometryPoint::from_flux("alerce", "ztf", "ZTF23abc", 60100.312349, Band::ZtfR, 190.0, 9.0, 3.0, 5.0)
//!     .with_origin(Origin::Forced);
//! let mut lc = Lightcurve::from_points(vec![alert, forced]);
//! assert_eq!(lc.mark_duplicates(DedupPolicy::KeepForced), 1);
//! let kept = lc.without_duplicates();
//! assert_eq!(kept.len(), 1);
//! assert_eq!(kept.points[0].origin, Origin::Forced);
//! assert_eq!(lc.points.iter().find(|p| p.is_duplicate()).unwrap().duplicate_of.as_deref(), Some("alerce/forced/ZTF23abc"));
//! ```

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Lightcurve, Origin, PhotometryPoint};

/// The default MJD tolerance of the rule (1e-4 d = 8.64 s); see the module docs for why.
pub const DEFAULT_TOLERANCE_DAYS: f64 = 1e-4;

/// Which point of a duplicate group is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DedupPolicy {
    /// Keep forced photometry, then the alert, then reported photometry.
    #[default]
    KeepForced,
    /// Keep the alert, then forced photometry, then reported photometry.
    KeepAlert,
    /// Mark nothing: every point stays independent.
    None,
}

impl DedupPolicy {
    /// The names accepted by [`FromStr`].
    pub const NAMES: [&'static str; 3] = ["keep-forced", "keep-alert", "none"];

    /// The name (`keep-forced`, `keep-alert`, `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            DedupPolicy::KeepForced => "keep-forced",
            DedupPolicy::KeepAlert => "keep-alert",
            DedupPolicy::None => "none",
        }
    }

    fn rank(self, origin: Origin) -> u8 {
        match (self, origin) {
            (DedupPolicy::KeepAlert, Origin::Alert) | (DedupPolicy::KeepForced | DedupPolicy::None, Origin::Forced) => {
                0
            }
            (DedupPolicy::KeepAlert, Origin::Forced) | (DedupPolicy::KeepForced | DedupPolicy::None, Origin::Alert) => {
                1
            }
            (_, Origin::Reported) => 2,
        }
    }
}

impl std::fmt::Display for DedupPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DedupPolicy {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "keep-forced" => Ok(DedupPolicy::KeepForced),
            "keep-alert" => Ok(DedupPolicy::KeepAlert),
            "none" => Ok(DedupPolicy::None),
            _ => Err(crate::Error::invalid(
                "dedup",
                format!("{s:?} is not a dedup policy: use one of {}", DedupPolicy::NAMES.join(", ")),
            )),
        }
    }
}

/// The policy and the MJD tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DedupOptions {
    /// Which point is kept.
    pub policy: DedupPolicy,
    /// The largest MJD difference (days) of one exposure seen by two services.
    pub tolerance_days: f64,
}

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions { policy: DedupPolicy::KeepForced, tolerance_days: DEFAULT_TOLERANCE_DAYS }
    }
}

impl DedupOptions {
    /// The policy with the default tolerance.
    pub fn new(policy: DedupPolicy) -> Self {
        DedupOptions { policy, ..Self::default() }
    }
    /// Sets the tolerance in days (a negative or non-finite value is taken as 0).
    pub fn tolerance_days(mut self, days: f64) -> Self {
        self.tolerance_days = if days.is_finite() && days > 0.0 { days } else { 0.0 };
        self
    }
}

fn source(p: &PhotometryPoint) -> (&str, Origin) {
    (p.broker.as_str(), p.origin)
}

/// Marks duplicates in place (clearing earlier marks first) and returns how many points
/// were marked. See the module docs for the rule.
pub fn mark_duplicates(lc: &mut Lightcurve, opts: &DedupOptions) -> usize {
    for p in &mut lc.points {
        p.duplicate_of = None;
    }
    if opts.policy == DedupPolicy::None {
        return 0;
    }
    // Indices by (survey, band), ordered by MJD; non-finite MJDs never match.
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, p) in lc.points.iter().enumerate() {
        if p.mjd.is_finite() {
            groups.entry((p.survey.to_ascii_lowercase(), p.band.name().to_string())).or_default().push(i);
        }
    }
    let tol = opts.tolerance_days.max(0.0);
    let mut marks: Vec<(usize, String)> = Vec::new();
    for idx in groups.values_mut() {
        idx.sort_by(|a, b| lc.points[*a].mjd.total_cmp(&lc.points[*b].mjd));
        let mut start = 0;
        while start < idx.len() {
            // A cluster: consecutive points each within `tol` of the first one.
            let first = lc.points[idx[start]].mjd;
            let mut end = start + 1;
            while end < idx.len() && lc.points[idx[end]].mjd - first <= tol {
                end += 1;
            }
            let cluster = &idx[start..end];
            start = end;
            let mut sources: Vec<(&str, Origin)> = cluster.iter().map(|i| source(&lc.points[*i])).collect();
            sources.sort();
            sources.dedup();
            if sources.len() < 2 {
                continue;
            }
            let Some(&keep) = cluster.iter().min_by(|a, b| {
                let (pa, pb) = (&lc.points[**a], &lc.points[**b]);
                opts.policy
                    .rank(pa.origin)
                    .cmp(&opts.policy.rank(pb.origin))
                    .then_with(|| pa.broker.cmp(&pb.broker))
                    .then_with(|| pa.object_id.cmp(&pb.object_id))
            }) else {
                continue;
            };
            let kept = &lc.points[keep];
            let key = kept.provenance_key();
            let kept_source = source(kept);
            for &i in cluster {
                if source(&lc.points[i]) != kept_source {
                    marks.push((i, key.clone()));
                }
            }
        }
    }
    let n = marks.len();
    for (i, key) in marks {
        lc.points[i].duplicate_of = Some(key);
    }
    n
}

impl Lightcurve {
    /// Marks duplicates with `policy` and the default tolerance; returns how many were
    /// marked (see [`crate::astro::dedup`]).
    pub fn mark_duplicates(&mut self, policy: DedupPolicy) -> usize {
        mark_duplicates(self, &DedupOptions::new(policy))
    }
    /// The points not marked as duplicates.
    pub fn without_duplicates(&self) -> Lightcurve {
        Lightcurve { points: self.points.iter().filter(|p| !p.is_duplicate()).cloned().collect() }
    }
    /// How many points are marked as duplicates.
    pub fn duplicate_count(&self) -> usize {
        self.points.iter().filter(|p| p.is_duplicate()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::astro::{Band, Measurement};

    fn alert(broker: &str, survey: &str, mjd: f64, band: Band) -> PhotometryPoint {
        PhotometryPoint::from_mag(broker, survey, "o", mjd, band, 18.0, Some(0.1))
    }
    fn forced(broker: &str, survey: &str, mjd: f64, band: Band) -> PhotometryPoint {
        PhotometryPoint::from_flux(broker, survey, "o", mjd, band, 200.0, 10.0, 3.0, 5.0).with_origin(Origin::Forced)
    }

    #[test]
    fn same_exposure_across_sources_collapses_by_policy() {
        let points = vec![
            alert("alerce", "ztf", 60000.100000, Band::ZtfG),
            forced("alerce", "ztf", 60000.100004, Band::ZtfG),
            alert("skyportal", "ZTF", 60000.100002, Band::ZtfG),
            // Another band at the same time: not a duplicate.
            alert("alerce", "ztf", 60000.100000, Band::ZtfR),
            // The next exposure, 40 s later: not a duplicate.
            forced("alerce", "ztf", 60000.100463, Band::ZtfG),
        ];
        let mut lc = Lightcurve::from_points(points.clone());
        assert_eq!(lc.mark_duplicates(DedupPolicy::KeepForced), 2);
        let kept = lc.without_duplicates();
        assert_eq!(kept.len(), 3);
        assert!(lc.points[0].duplicate_of.as_deref() == Some("alerce/forced/o"));
        assert!(lc.points[2].duplicate_of.as_deref() == Some("alerce/forced/o"));
        assert!(!lc.points[1].is_duplicate() && !lc.points[3].is_duplicate() && !lc.points[4].is_duplicate());

        assert_eq!(lc.mark_duplicates(DedupPolicy::KeepAlert), 2);
        // Two alerts tie on origin: the broker name decides (alerce before skyportal).
        assert_eq!(lc.points[1].duplicate_of.as_deref(), Some("alerce/alert/o"));
        assert_eq!(lc.points[2].duplicate_of.as_deref(), Some("alerce/alert/o"));
        assert!(!lc.points[0].is_duplicate());

        assert_eq!(lc.mark_duplicates(DedupPolicy::None), 0);
        assert_eq!(lc.duplicate_count(), 0);
    }

    #[test]
    fn one_source_never_duplicates_itself_and_tolerance_is_honoured() {
        let mut lc = Lightcurve::from_points(vec![
            forced("forcedphot", "atlas", 60000.0, Band::AtlasO),
            forced("forcedphot", "atlas", 60000.00001, Band::AtlasO),
        ]);
        assert_eq!(lc.mark_duplicates(DedupPolicy::KeepForced), 0);
        // 1.7e-4 d apart (start vs mid exposure): apart by default, together when widened.
        let mut lc = Lightcurve::from_points(vec![
            forced("forcedphot", "atlas", 60000.0, Band::AtlasO),
            forced("atlas", "atlas", 60000.00017, Band::AtlasO),
        ]);
        assert_eq!(mark_duplicates(&mut lc, &DedupOptions::new(DedupPolicy::KeepForced)), 0);
        assert_eq!(mark_duplicates(&mut lc, &DedupOptions::new(DedupPolicy::KeepForced).tolerance_days(2e-4)), 1);
        // Ties between two forced sources: alphabetical broker.
        assert_eq!(lc.points[1].duplicate_of, None);
        assert_eq!(lc.points[0].duplicate_of.as_deref(), Some("atlas/forced/o"));
    }

    #[test]
    fn reported_comes_last_and_measurement_is_kept_on_the_point() {
        let rep = alert("tns", "ztf", 60000.0, Band::ZtfR).with_origin(Origin::Reported);
        let app = alert("skyportal", "ztf", 60000.0, Band::ZtfR).with_measurement(Measurement::Apparent);
        let mut lc = Lightcurve::from_points(vec![rep, app]);
        assert_eq!(lc.mark_duplicates(DedupPolicy::KeepForced), 1);
        let kept = lc.without_duplicates();
        assert_eq!(kept.points[0].broker, "skyportal");
        assert_eq!(kept.points[0].measurement, Measurement::Apparent);
    }

    #[test]
    fn policy_names_round_trip_and_bad_names_say_what_is_valid() {
        for n in DedupPolicy::NAMES {
            assert_eq!(n.parse::<DedupPolicy>().unwrap().as_str(), n);
        }
        let e = "keep-both".parse::<DedupPolicy>().unwrap_err().to_string();
        assert!(e.contains("keep-forced, keep-alert, none"), "{e}");
    }
}
