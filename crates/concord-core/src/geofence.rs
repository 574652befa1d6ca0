//! Geofences: validating GeoJSON polygons, testing locations against them, and the dwell-time
//! state machine that turns location reports into joins and leaves.
//!
//! Geometry is planar in longitude/latitude degrees. That is exact enough for the site-sized
//! areas (factories, campuses) geofences describe, and it is what GeoJSON tools draw; rings
//! crossing the antimeridian are refused, as RFC 7946 §3.1.9 asks producers to split them.

use crate::error::DomainError;
use concord_proto::geo::{Geofence, LocationReport};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Default cap on the positions of one geofence, counted as sent (closing positions included).
pub const DEFAULT_MAX_VERTICES: usize = 10_000;

/// Points closer than this to an edge (in degrees, about 0.1 mm) are on it: an exact test would
/// make "on the edge counts as inside" depend on floating-point luck.
const ON_EDGE_DEGREES: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GeofenceLimits {
    /// Most positions the whole geofence may have.
    pub max_vertices: usize,
}

impl Default for GeofenceLimits {
    fn default() -> Self {
        GeofenceLimits {
            max_vertices: DEFAULT_MAX_VERTICES,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Pt {
    lon: f64,
    lat: f64,
}

fn pt(lon: f64, lat: f64) -> Pt {
    Pt { lon, lat }
}

/// A coordinate for messages: huge values in scientific notation rather than 300 digits.
fn num(x: f64) -> String {
    if x.abs() >= 1e6 {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

impl fmt::Display for Pt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", num(self.lon), num(self.lat))
    }
}

#[derive(Clone, Debug)]
struct Ring {
    /// Closed: the last point repeats the first. Consecutive duplicates removed.
    pts: Vec<Pt>,
    /// Index in the GeoJSON of each kept point, for messages.
    orig: Vec<usize>,
}

#[derive(Clone, Debug)]
struct Polygon {
    /// Outer boundary first, then holes.
    rings: Vec<Ring>,
    /// West, south, east, north bounds of the outer boundary.
    bbox: [f64; 4],
}

/// A geofence that passed [`validate_geofence`]: one or more simple polygons with holes inside
/// their outer boundaries.
#[derive(Clone, Debug)]
pub struct ValidGeofence {
    polygons: Vec<Polygon>,
}

/// Where a ring sits in the GeoJSON, for messages: its path, with 0-based indices as in JSON.
#[derive(Clone, Copy)]
struct RingRef {
    multi: bool,
    polygon: usize,
    ring: usize,
}

impl RingRef {
    fn new(multi: bool, polygon: usize, ring: usize) -> Self {
        RingRef {
            multi,
            polygon,
            ring,
        }
    }

    fn path(self) -> String {
        if self.multi {
            format!("coordinates[{}][{}]", self.polygon, self.ring)
        } else {
            format!("coordinates[{}]", self.ring)
        }
    }

    fn position(self, i: usize) -> String {
        format!("position {}[{i}]", self.path())
    }

    fn edge(self, i: usize, a: Pt, j: usize, b: Pt) -> String {
        let p = self.path();
        format!("the edge from {p}[{i}] = {a} to {p}[{j}] = {b}")
    }
}

impl fmt::Display for RingRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let role = match (self.ring, self.multi) {
            (0, false) => "the outer boundary".to_owned(),
            (h, false) => format!("hole {h}"),
            (0, true) => format!("outer boundary of polygon {}", self.polygon),
            (h, true) => format!("hole {h} of polygon {}", self.polygon),
        };
        write!(f, "ring {} ({role})", self.path())
    }
}

fn invalid(reason: impl Into<String>) -> DomainError {
    DomainError::invalid("geofence", reason)
}

/// Checks a GeoJSON polygon or multipolygon and prepares it for containment tests.
///
/// Refused, with a message naming the polygon, ring and position: no polygons or rings, more
/// positions than `limits.max_vertices`, positions that are not 2 or 3 finite numbers or lie
/// outside longitude -180..180 / latitude -90..90, rings with fewer than 4 positions (3 distinct
/// corners), unclosed rings, edges spanning more than 180° of longitude, rings that touch or
/// cross themselves (which covers rings enclosing no area), rings of one polygon that cross or
/// overlap each other, and holes not inside their outer boundary or inside another hole. Winding order is not
/// checked (RFC 7946 says parsers should not reject on it). Polygons of a multipolygon may
/// overlap; a point is inside when it is inside any of them.
pub fn validate_geofence(
    g: &Geofence,
    limits: GeofenceLimits,
) -> Result<ValidGeofence, DomainError> {
    let (multi, polygons): (bool, Vec<&Vec<Vec<Vec<f64>>>>) = match g {
        Geofence::Polygon { coordinates, .. } => (false, vec![coordinates]),
        Geofence::MultiPolygon { coordinates, .. } => (true, coordinates.iter().collect()),
    };
    if polygons.is_empty() {
        return Err(invalid(
            "a MultiPolygon needs at least one polygon; coordinates is empty",
        ));
    }
    // Count first, so an oversized body is refused before any per-vertex work.
    let total: usize = polygons.iter().flat_map(|p| p.iter()).map(Vec::len).sum();
    if total > limits.max_vertices {
        return Err(invalid(format!(
            "it has {total} positions; the limit is {}",
            limits.max_vertices
        )));
    }
    let mut out = Vec::with_capacity(polygons.len());
    for (pi, rings) in polygons.iter().enumerate() {
        if rings.is_empty() {
            let what = if multi {
                format!("polygon coordinates[{pi}]")
            } else {
                "the polygon".to_owned()
            };
            return Err(invalid(format!(
                "{what} has no rings; it needs at least an outer boundary"
            )));
        }
        let mut parsed = Vec::with_capacity(rings.len());
        for (ri, ring) in rings.iter().enumerate() {
            parsed.push(parse_ring(ring, RingRef::new(multi, pi, ri))?);
        }
        check_crossings(&parsed, multi, pi)?;
        check_holes(&parsed, multi, pi)?;
        let (inf, outer) = (f64::INFINITY, &parsed[0].pts);
        let bbox = outer.iter().fold([inf, inf, -inf, -inf], |b, p| {
            [
                b[0].min(p.lon),
                b[1].min(p.lat),
                b[2].max(p.lon),
                b[3].max(p.lat),
            ]
        });
        out.push(Polygon {
            rings: parsed,
            bbox,
        });
    }
    Ok(ValidGeofence { polygons: out })
}

fn parse_ring(ring: &[Vec<f64>], r: RingRef) -> Result<Ring, DomainError> {
    if ring.len() < 4 {
        return Err(invalid(format!(
            "{r} has {} positions; a ring needs at least 4 (3 corners and the closing position \
             repeating the first)",
            ring.len()
        )));
    }
    let mut pts = Vec::with_capacity(ring.len());
    for (i, pos) in ring.iter().enumerate() {
        pts.push(parse_position(pos, r, i)?);
    }
    let (first, last) = (pts[0], pts[pts.len() - 1]);
    if first != last {
        return Err(invalid(format!(
            "{r} is not closed: first position {first} differs from last position {last} \
             (repeat the first position at the end)"
        )));
    }
    // Repeated consecutive positions are harmless (drawing tools emit them) but would look like
    // zero-length edges to the intersection test.
    let mut kept = Ring {
        pts: Vec::with_capacity(pts.len()),
        orig: Vec::with_capacity(pts.len()),
    };
    for (i, p) in pts.iter().enumerate() {
        if kept.pts.last() != Some(p) {
            kept.pts.push(*p);
            kept.orig.push(i);
        }
    }
    if kept.pts.len() < 4 {
        return Err(invalid(format!(
            "{r} has only {} distinct corners; a ring needs at least 3",
            kept.pts.len() - 1
        )));
    }
    for k in 0..kept.pts.len() - 1 {
        let (a, b) = (kept.pts[k], kept.pts[k + 1]);
        if (b.lon - a.lon).abs() > 180.0 {
            return Err(invalid(format!(
                "{r}: {} spans more than 180° of longitude; split shapes that cross the \
                 antimeridian (RFC 7946 §3.1.9)",
                r.edge(kept.orig[k], a, kept.orig[k + 1], b)
            )));
        }
    }
    Ok(kept)
}

fn parse_position(pos: &[f64], r: RingRef, i: usize) -> Result<Pt, DomainError> {
    let at = r.position(i);
    if !(2..=3).contains(&pos.len()) {
        return Err(invalid(format!(
            "{at} has {} numbers; a position is [longitude, latitude] (optionally with \
             altitude)",
            pos.len()
        )));
    }
    let (lon, lat) = (pos[0], pos[1]);
    if !lon.is_finite() || !lat.is_finite() {
        return Err(invalid(format!(
            "{at} is not a pair of finite numbers: {}",
            pt(lon, lat)
        )));
    }
    // RFC 7946 order is [longitude, latitude]; a swapped pair is the likeliest mistake.
    let swapped = if (-90.0..=90.0).contains(&lon) && (-180.0..=180.0).contains(&lat) {
        " (positions are [longitude, latitude]; are they swapped?)"
    } else {
        ""
    };
    for (name, v, lim) in [("longitude", lon, 180.0), ("latitude", lat, 90.0)] {
        if v.abs() > lim {
            let v = num(v);
            return Err(invalid(format!(
                "{at} has {name} {v}, outside -{lim}..{lim}{swapped}"
            )));
        }
    }
    Ok(pt(lon, lat))
}

fn orient(a: Pt, b: Pt, c: Pt) -> f64 {
    (b.lon - a.lon) * (c.lat - a.lat) - (b.lat - a.lat) * (c.lon - a.lon)
}

/// Whether `p`, known to be collinear with `a`-`b`, lies within the segment's box.
fn within(a: Pt, b: Pt, p: Pt) -> bool {
    let between = |x: f64, lo: f64, hi: f64| x >= lo.min(hi) && x <= lo.max(hi);
    between(p.lon, a.lon, b.lon) && between(p.lat, a.lat, b.lat)
}

#[derive(Debug, PartialEq)]
enum Contact {
    /// The interiors cross at this point.
    Cross(Pt),
    /// They meet at exactly one point that is an endpoint of at least one of them.
    Touch(Pt),
    /// Collinear and sharing more than one point.
    Overlap,
}

fn contact(p1: Pt, p2: Pt, q1: Pt, q2: Pt) -> Option<Contact> {
    let (d1, d2) = (orient(q1, q2, p1), orient(q1, q2, p2));
    let (d3, d4) = (orient(p1, p2, q1), orient(p1, p2, q2));
    if d1 == 0.0 && d2 == 0.0 {
        // Collinear: compare extents along the dominant axis.
        let along_lon = (p2.lon - p1.lon).abs() >= (p2.lat - p1.lat).abs();
        let key = |p: Pt| if along_lon { p.lon } else { p.lat };
        let (a0, a1) = (key(p1).min(key(p2)), key(p1).max(key(p2)));
        let (b0, b1) = (key(q1).min(key(q2)), key(q1).max(key(q2)));
        let (lo, hi) = (a0.max(b0), a1.min(b1));
        return if lo < hi {
            Some(Contact::Overlap)
        } else if lo == hi {
            let shared = [p1, p2].into_iter().find(|p| key(*p) == lo).unwrap_or(q1);
            Some(Contact::Touch(shared))
        } else {
            None
        };
    }
    let opposite = |a: f64, b: f64| a < 0.0 && b > 0.0 || a > 0.0 && b < 0.0;
    if opposite(d1, d2) && opposite(d3, d4) {
        let lerp = |a: f64, b: f64| a + d1 / (d1 - d2) * (b - a);
        return Some(Contact::Cross(pt(
            lerp(p1.lon, p2.lon),
            lerp(p1.lat, p2.lat),
        )));
    }
    for (d, p, a, b) in [
        (d1, p1, q1, q2),
        (d2, p2, q1, q2),
        (d3, q1, p1, p2),
        (d4, q2, p1, p2),
    ] {
        if d == 0.0 && within(a, b, p) {
            return Some(Contact::Touch(p));
        }
    }
    None
}

struct Edge {
    ring: usize,
    /// Edge k joins kept points k and k + 1 of its ring.
    k: usize,
    a: Pt,
    b: Pt,
}

/// Finds edges of one polygon that meet where they must not: within a ring, only neighbouring
/// edges may meet, at their shared corner; between rings, touching at a point is allowed but
/// crossing and overlapping are not. Edges are swept in order of their west end, so only pairs
/// whose longitude ranges overlap are compared.
fn check_crossings(rings: &[Ring], multi: bool, polygon: usize) -> Result<(), DomainError> {
    let mut edges: Vec<Edge> = Vec::new();
    for (ri, ring) in rings.iter().enumerate() {
        for k in 0..ring.pts.len() - 1 {
            edges.push(Edge {
                ring: ri,
                k,
                a: ring.pts[k],
                b: ring.pts[k + 1],
            });
        }
    }
    let west = |e: &Edge| e.a.lon.min(e.b.lon);
    edges.sort_by(|x, y| west(x).total_cmp(&west(y)));
    for i in 0..edges.len() {
        let e = &edges[i];
        let east = e.a.lon.max(e.b.lon);
        let (s0, s1) = (e.a.lat.min(e.b.lat), e.a.lat.max(e.b.lat));
        for f in edges[i + 1..].iter().take_while(|f| west(f) <= east) {
            if f.a.lat.max(f.b.lat) < s0 || f.a.lat.min(f.b.lat) > s1 {
                continue;
            }
            let Some(c) = contact(e.a, e.b, f.a, f.b) else {
                continue;
            };
            let (e, f) = if (e.ring, e.k) <= (f.ring, f.k) {
                (e, f)
            } else {
                (f, e)
            };
            let ok = if e.ring == f.ring {
                let n = rings[e.ring].pts.len() - 1;
                let neighbours = f.k == e.k + 1 || (e.k == 0 && f.k == n - 1);
                neighbours && matches!(c, Contact::Touch(_))
            } else {
                matches!(c, Contact::Touch(_))
            };
            if !ok {
                return Err(crossing_error(rings, multi, polygon, e, f, &c));
            }
        }
    }
    Ok(())
}

fn crossing_error(
    rings: &[Ring],
    multi: bool,
    polygon: usize,
    e: &Edge,
    f: &Edge,
    c: &Contact,
) -> DomainError {
    let rr = |ring| RingRef::new(multi, polygon, ring);
    let describe = |x: &Edge| {
        let orig = &rings[x.ring].orig;
        rr(x.ring).edge(orig[x.k], x.a, orig[x.k + 1], x.b)
    };
    let how = match c {
        Contact::Cross(p) => format!("crosses {} at about {}", describe(f), round(*p)),
        Contact::Touch(p) => format!("touches {} at {}", describe(f), p),
        Contact::Overlap => format!("runs along {}", describe(f)),
    };
    let whose = if e.ring == f.ring {
        format!("{} intersects itself", rr(e.ring))
    } else {
        format!("{} and {} overlap", rr(e.ring), rr(f.ring))
    };
    invalid(format!("{whose}: {} {how}", describe(e)))
}

fn round(p: Pt) -> Pt {
    let r = |x: f64| (x * 1e7).round() / 1e7;
    pt(r(p.lon), r(p.lat))
}

/// With no crossings established, a hole is inside the outer boundary when none of its corners
/// is outside it, and clear of another hole when none of its corners is strictly inside it.
fn check_holes(rings: &[Ring], multi: bool, polygon: usize) -> Result<(), DomainError> {
    let rr = |ring| RingRef::new(multi, polygon, ring);
    for h in 1..rings.len() {
        for (k, p) in rings[h].pts.iter().enumerate() {
            if locate(&rings[0], *p) == Where::Outside {
                return Err(invalid(format!(
                    "{} is not inside the outer boundary: {} = {p} lies outside {}",
                    rr(h),
                    rr(h).position(rings[h].orig[k]),
                    rr(0)
                )));
            }
            for other in (1..rings.len()).filter(|&o| o != h) {
                if locate(&rings[other], *p) == Where::Inside {
                    return Err(invalid(format!(
                        "{} lies inside {}: {} = {p} is within it; holes must not overlap",
                        rr(h),
                        rr(other),
                        rr(h).position(rings[h].orig[k])
                    )));
                }
            }
        }
    }
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Where {
    Inside,
    OnEdge,
    Outside,
}

/// Where `p` is relative to one ring (even-odd rule).
fn locate(ring: &Ring, p: Pt) -> Where {
    let mut inside = false;
    for w in ring.pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if segment_distance_deg(a, b, p) <= ON_EDGE_DEGREES {
            return Where::OnEdge;
        }
        if (a.lat > p.lat) != (b.lat > p.lat) {
            let x = a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat);
            if p.lon < x {
                inside = !inside;
            }
        }
    }
    if inside {
        Where::Inside
    } else {
        Where::Outside
    }
}

fn segment_distance_deg(a: Pt, b: Pt, p: Pt) -> f64 {
    let (dx, dy) = (b.lon - a.lon, b.lat - a.lat);
    let len2 = dx * dx + dy * dy;
    let t = if len2 == 0.0 {
        0.0
    } else {
        (((p.lon - a.lon) * dx + (p.lat - a.lat) * dy) / len2).clamp(0.0, 1.0)
    };
    let (ex, ey) = (a.lon + t * dx - p.lon, a.lat + t * dy - p.lat);
    (ex * ex + ey * ey).sqrt()
}

impl ValidGeofence {
    /// Whether the point is inside any polygon (and not in one of its holes). Points on an edge,
    /// a hole's included, count as inside.
    pub fn contains(&self, latitude: f64, longitude: f64) -> bool {
        let p = pt(longitude, latitude);
        self.polygons.iter().any(|poly| {
            let ([w, s, e, n], slack) = (poly.bbox, ON_EDGE_DEGREES);
            if p.lon < w - slack || p.lon > e + slack || p.lat < s - slack || p.lat > n + slack {
                return false;
            }
            // Even-odd over all rings at once makes holes subtract from the outer boundary.
            let mut inside = false;
            for ring in &poly.rings {
                match locate(ring, p) {
                    Where::OnEdge => return true,
                    Where::Inside => inside = !inside,
                    Where::Outside => {}
                }
            }
            inside
        })
    }

    pub fn polygon_count(&self) -> usize {
        self.polygons.len()
    }

    /// Distinct corners over all rings (closing positions and repeats not counted).
    pub fn vertex_count(&self) -> usize {
        self.polygons
            .iter()
            .flat_map(|p| p.rings.iter())
            .map(|r| r.pts.len() - 1)
            .sum()
    }
}

/// Checks a location report: finite coordinates in range and a non-negative accuracy.
pub fn validate_location(report: &LocationReport) -> Result<(), DomainError> {
    let r = report;
    for (field, value, ok, expected) in [
        (
            "latitude",
            r.latitude,
            r.latitude.abs() <= 90.0,
            "a latitude within -90..90",
        ),
        (
            "longitude",
            r.longitude,
            r.longitude.abs() <= 180.0,
            "a longitude within -180..180",
        ),
        (
            "accuracy_m",
            r.accuracy_m,
            r.accuracy_m >= 0.0,
            "a non-negative number of metres",
        ),
    ] {
        // NaN fails every comparison, so `ok` is false for it; infinities fail the ranges.
        if !ok || !value.is_finite() {
            return Err(DomainError::invalid(
                field,
                format!("{value} is not {expected}"),
            ));
        }
    }
    Ok(())
}

/// How location reports become geofence membership.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GeofencePolicy {
    /// How long a member must be continuously outside (or unknown) before leaving.
    pub dwell: SignedDuration,
    /// How long a location stays trusted. After that the user's whereabouts are unknown, which
    /// counts as outside from that moment, so someone who stops reporting still leaves.
    pub max_location_age: SignedDuration,
    /// Reports less precise than this count as outside: they neither bring anyone in nor keep
    /// anyone in. A fix that is 800 m uncertain says little about being inside a factory, and
    /// treating it as "outside" (rather than ignoring it) means a device stuck on poor fixes
    /// behaves like one that stopped reporting.
    pub max_accuracy_m: f64,
}

impl Default for GeofencePolicy {
    fn default() -> Self {
        GeofencePolicy {
            dwell: SignedDuration::from_mins(10),
            max_location_age: SignedDuration::from_mins(30),
            max_accuracy_m: 500.0,
        }
    }
}

impl GeofencePolicy {
    /// The `inside` to give [`DwellTracker::observe`]: inside the fence and precise enough.
    pub fn is_inside(&self, fence: &ValidGeofence, report: &LocationReport) -> bool {
        report.accuracy_m <= self.max_accuracy_m
            && fence.contains(report.latitude, report.longitude)
    }
}

/// What a geofence observation does to a user's membership of the channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeofenceTransition {
    /// Add the user (membership by geofence).
    Enter,
    /// Remove the user's geofence membership.
    Leave,
}

/// The persistent part of a [`DwellTracker`], for storing per (user, channel).
///
/// Invariant: `member` implies `last_inside_at` is set; a state violating it is treated as
/// long stale, so the member leaves at the next tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DwellState {
    /// In the channel because of the geofence.
    pub member: bool,
    /// Time of the latest inside observation.
    pub last_inside_at: Option<Timestamp>,
    /// Start of the current run of outside observations while a member; `None` when the
    /// latest observation was inside.
    pub outside_since: Option<Timestamp>,
    /// Time of the latest observation, to ignore ones arriving out of order.
    pub last_observed_at: Option<Timestamp>,
}

/// Geofence membership of one user in one channel, as a pure state machine.
///
/// Entering is immediate: the first inside observation of a non-member yields `Enter`. Leaving
/// needs the member to have been outside *continuously* for `policy.dwell`, so GPS jitter at
/// the edge (in, out, in) never flaps. "Outside" starts at the first outside observation, or
/// when the latest inside location became stale (`last_inside_at + max_location_age`),
/// whichever is earlier; `tick` emits the leave for users who stopped reporting.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DwellTracker {
    policy: GeofencePolicy,
    state: DwellState,
}

fn plus(t: Timestamp, d: SignedDuration) -> Timestamp {
    t.checked_add(d).unwrap_or(if d.is_negative() {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

impl DwellTracker {
    pub fn new(policy: GeofencePolicy) -> Self {
        Self::from_state(policy, DwellState::default())
    }

    pub fn from_state(policy: GeofencePolicy, state: DwellState) -> Self {
        DwellTracker { policy, state }
    }

    pub fn state(&self) -> DwellState {
        self.state
    }

    /// Whether the user is currently a member by geofence.
    pub fn is_member(&self) -> bool {
        self.state.member
    }

    /// When `tick` will emit `Leave` if nothing else is observed; `None` for non-members.
    pub fn leave_deadline(&self) -> Option<Timestamp> {
        if !self.state.member {
            return None;
        }
        let stale = self
            .state
            .last_inside_at
            .map_or(Timestamp::MIN, |t| plus(t, self.policy.max_location_age));
        let outside = self.state.outside_since.map_or(stale, |o| o.min(stale));
        Some(plus(outside, self.policy.dwell))
    }

    /// Feeds one observation taken at `now`. Observations older than the latest one seen are
    /// ignored (reports can arrive out of order through retries or several nodes).
    pub fn observe(&mut self, now: Timestamp, inside: bool) -> Option<GeofenceTransition> {
        if self.state.last_observed_at.is_some_and(|last| now < last) {
            return None;
        }
        self.state.last_observed_at = Some(now);
        if inside {
            self.state.last_inside_at = Some(now);
            self.state.outside_since = None;
            if !self.state.member {
                self.state.member = true;
                return Some(GeofenceTransition::Enter);
            }
            return None;
        }
        if !self.state.member {
            return None;
        }
        self.state.outside_since.get_or_insert(now);
        self.tick(now)
    }

    /// The periodic sweep: emits `Leave` once the member has been outside or unknown for the
    /// dwell time, even if no report arrived.
    pub fn tick(&mut self, now: Timestamp) -> Option<GeofenceTransition> {
        let deadline = self.leave_deadline()?;
        if now < deadline {
            return None;
        }
        self.state.member = false;
        self.state.outside_since = None;
        Some(GeofenceTransition::Leave)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use GeofenceTransition::{Enter, Leave};

    /// A factory in Suzhou Industrial Park: an L-shaped site (the north-east corner belongs to
    /// a neighbour) with a public car park carved out as a hole.
    const FACTORY_RINGS: &str = "
        [[120.7400,31.3300],[120.7460,31.3300],[120.7460,31.3330],[120.7430,31.3330],
         [120.7430,31.3350],[120.7400,31.3350],[120.7400,31.3300]],
        [[120.7410,31.3310],[120.7420,31.3310],[120.7420,31.3320],[120.7410,31.3320],
         [120.7410,31.3310]]";

    fn factory() -> ValidGeofence {
        parse(&poly(FACTORY_RINGS)).unwrap()
    }

    fn parse(json: &str) -> Result<ValidGeofence, DomainError> {
        validate_geofence(
            &serde_json::from_str(json).unwrap(),
            GeofenceLimits::default(),
        )
    }

    fn err(json: &str) -> String {
        match parse(json) {
            Err(DomainError::Invalid {
                field: "geofence",
                reason,
            }) => reason,
            other => panic!("expected a geofence error for {json}, got {other:?}"),
        }
    }

    fn poly(rings: &str) -> String {
        format!(r#"{{"type":"Polygon","coordinates":[{rings}]}}"#)
    }

    /// A closed ring of `n` corners around the factory (so `n + 1` positions).
    fn circle(n: usize) -> String {
        let pts: Vec<String> = (0..=n)
            .map(|i| {
                let a = (i % n) as f64 / n as f64 * std::f64::consts::TAU;
                format!("[{},{}]", 120.743 + 0.01 * a.cos(), 31.333 + 0.01 * a.sin())
            })
            .collect();
        poly(&format!("[{}]", pts.join(",")))
    }

    fn t(hm: &str) -> Timestamp {
        format!("2025-03-03T{hm}:00+08:00").parse().unwrap()
    }

    fn report(latitude: f64, longitude: f64, accuracy_m: f64) -> LocationReport {
        LocationReport {
            latitude,
            longitude,
            accuracy_m,
        }
    }

    #[test]
    fn containment_with_holes_edges_and_several_polygons() {
        let f = factory();
        assert_eq!((f.polygon_count(), f.vertex_count()), (1, 10));
        for (lat, lon, inside, why) in [
            (31.3305, 120.7445, true, "south-east wing"),
            (31.3340, 120.7410, true, "north-west wing"),
            (31.3340, 120.7450, false, "the neighbour's corner of the L"),
            (31.3315, 120.7415, false, "the public car park (hole)"),
            (31.3320, 120.7400, true, "on the west fence"),
            (31.3310, 120.7415, true, "on the car park's edge"),
            (31.3330, 120.7430, true, "on the inner corner"),
            (31.3000, 120.6200, false, "Suzhou old town"),
        ] {
            assert_eq!(f.contains(lat, lon), inside, "{why}");
        }
        let multi = format!(
            r#"{{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[{FACTORY_RINGS}]]}}"#
        );
        let m = parse(&multi).unwrap();
        assert!(m.contains(31.3305, 120.7445) && m.contains(0.1, 0.9) && !m.contains(0.9, 0.1));
    }

    #[test]
    fn invalid_geojson_says_what_is_wrong() {
        // Each message names the ring or position by its JSON path and says what is wrong.
        assert_eq!(
            err(&poly("[[0,0],[2,2],[2,0],[0,2],[0,0]]")), // a bow tie
            "ring coordinates[0] (the outer boundary) intersects itself: the edge from \
             coordinates[0][0] = [0, 0] to coordinates[0][1] = [2, 2] crosses the edge from \
             coordinates[0][2] = [2, 0] to coordinates[0][3] = [0, 2] at about [1, 1]"
        );
        assert_eq!(
            err(&poly(
                "[[120.74,31.33],[120.75,31.33],[120.75,31.34],[120.74,31.34]]"
            )),
            "ring coordinates[0] (the outer boundary) is not closed: first position \
             [120.74, 31.33] differs from last position [120.74, 31.34] (repeat the first \
             position at the end)"
        );
        // One case a line: the polygon's rings, then part of the expected message.
        let sq = "[[0,0],[4,0],[4,4],[0,4],[0,0]]";
        let cases = "
            [[0,0],[2,0],[1,0],[1,1],[0,0]] | [0, 0] to coordinates[0][1] = [2, 0] runs along
            [[0,0],[1,1],[0,1],[1,1],[0,0]] | (the outer boundary) intersects itself
            [[1,0],[1,91],[2,1],[1,0]] | position coordinates[0][1] has latitude 91, outside -90
            [[31.3,120.7],[31.4,120.8],[31.5,120.7],[31.3,120.7]] | latitude]; are they swapped?
            [[1e300,0],[1,0],[1,1],[1e300,0]] | has longitude 1e300, outside -180..180
            [[0,0],[1],[1,1],[0,0]] | coordinates[0][1] has 1 numbers; a position is [longitude,
             | the polygon has no rings; it needs at least an outer boundary
            [[0,0],[1,0],[0,0]] | has 3 positions; a ring needs at least 4
            [[0,0],[1,0],[1,0],[0,0]] | has only 2 distinct corners; a ring needs at least 3
            [[179,0],[-179,0],[-179,1],[179,0]] | spans more than 180° of longitude; split
            SQ,[[5,1],[6,1],[6,2],[5,1]] | ring coordinates[1] (hole 1) is not inside the outer
            SQ,[[5,1],[6,1],[6,2],[5,1]] | position coordinates[1][0] = [5, 1] lies outside ring
            SQ,[[1,1],[2,1],[2,2],[1,1]],[[1.5,1.2],[1.9,1.2],[1.9,1.6],[1.5,1.2]] | hole 2) lies \
                inside ring coordinates[1] (hole 1): position coordinates[2][0] = [1.5, 1.2]
            SQ,[[1,1],[5,1],[5,2],[1,1]] | boundary) and ring coordinates[1] (hole 1) overlap";
        for line in cases.lines().filter(|l| !l.trim().is_empty()) {
            let (rings, expected) = line.split_once(" | ").unwrap();
            let rings = rings.trim().replace("SQ", sq);
            let e = err(&poly(&rings));
            assert!(e.contains(expected.trim()), "{rings}: {e}");
        }
        assert_eq!(
            err(r#"{"type":"MultiPolygon","coordinates":[]}"#),
            "a MultiPolygon needs at least one polygon; coordinates is empty"
        );
        let multi = r#"{"type":"MultiPolygon","coordinates":[
            [[[0,0],[1,0],[1,1],[0,0]]], [[[0,0],[1,0],[1,1]]]]}"#;
        assert!(err(multi).starts_with("ring coordinates[1][0] (outer boundary of polygon 1) has"));
        // NaN cannot come through JSON, but a caller building a Geofence by hand is refused too.
        let nan = Geofence::Polygon {
            coordinates: vec![vec![
                vec![0.0, 0.0],
                vec![f64::NAN, 0.0],
                vec![1.0, 1.0],
                vec![0.0, 0.0],
            ]],
            bbox: None,
        };
        let e = validate_geofence(&nan, GeofenceLimits::default()).unwrap_err();
        assert!(
            e.to_string()
                .contains("is not a pair of finite numbers: [NaN, 0]"),
            "{e}"
        );
    }

    #[test]
    fn vertex_limit_and_large_valid_rings() {
        let small = GeofenceLimits { max_vertices: 100 };
        let g = serde_json::from_str(&circle(100)).unwrap();
        assert_eq!(
            validate_geofence(&g, small).unwrap_err().to_string(),
            "geofence: it has 101 positions; the limit is 100"
        );
        let g = serde_json::from_str(&circle(99)).unwrap();
        assert_eq!(validate_geofence(&g, small).unwrap().vertex_count(), 99);
        // Near the default limit the sweep keeps validation quick.
        let big = parse(&circle(DEFAULT_MAX_VERTICES - 1)).unwrap();
        assert!(big.contains(31.333, 120.743));
        assert!(err(&circle(DEFAULT_MAX_VERTICES)).contains("10001 positions; the limit is 10000"));
        // Altitude and repeated positions are accepted.
        parse(&poly("[[0,0,5],[1,0,5],[1,0,6],[1,1,5],[0,0,5]]")).unwrap();
        // Holes may touch the outer boundary at a point.
        let touching = "[[0,0],[4,0],[4,4],[0,4],[0,0]],[[0,0],[2,1],[1,2],[0,0]]";
        parse(&poly(touching)).unwrap();
    }

    #[test]
    fn location_reports_are_checked() {
        validate_location(&report(31.33, 120.74, 8.0)).unwrap();
        let msg = |r| validate_location(&r).unwrap_err().to_string();
        assert_eq!(
            msg(report(91.0, 0.0, 8.0)),
            "latitude: 91 is not a latitude within -90..90"
        );
        assert_eq!(
            msg(report(0.0, -181.0, 8.0)),
            "longitude: -181 is not a longitude within -180..180"
        );
        assert_eq!(
            msg(report(0.0, 0.0, -1.0)),
            "accuracy_m: -1 is not a non-negative number of metres"
        );
        assert!(msg(report(f64::NAN, 0.0, 1.0)).starts_with("latitude: NaN is not"));
    }

    /// The seed's example: a worker walks into the factory and joins 安全生产巡查组 (the safety
    /// patrol channel), jitters at the fence during the day, then goes home and leaves.
    #[test]
    fn worker_joins_the_safety_patrol_and_leaves_after_going_home() {
        let (factory, policy) = (factory(), GeofencePolicy::default());
        let mut patrol = DwellTracker::new(policy);
        let mut step = |at: Timestamp, lat: f64, lon: f64, accuracy_m: f64| {
            let r = report(lat, lon, accuracy_m);
            validate_location(&r).unwrap();
            patrol.observe(at, policy.is_inside(&factory, &r))
        };
        // (time, latitude, longitude, accuracy, expected transition)
        let mut script = vec![
            // Walking north from the bus stop on the road south of the site.
            ("07:50", 31.3280, 120.7445, 15.0, None),
            ("07:55", 31.3296, 120.7445, 12.0, None),
            ("08:00", 31.3303, 120.7445, 10.0, Some(Enter)),
            // Jitter at the south fence: in, out, in, out, in within minutes.
            ("08:01", 31.32997, 120.7445, 8.0, None),
            ("08:04", 31.33001, 120.7445, 8.0, None),
            ("08:09", 31.32995, 120.7445, 8.0, None),
            ("08:18", 31.33003, 120.7445, 8.0, None),
        ];
        // The working day: the app reports every 20 minutes from the north-west wing.
        let day: Vec<String> = (30..=550)
            .step_by(20)
            .map(|m| format!("{:02}:{:02}", 8 + m / 60, m % 60))
            .collect();
        script.extend(
            day.iter()
                .map(|hm| (hm.as_str(), 31.3340, 120.7410, 20.0, None)),
        );
        script.extend([
            // A poor fix inside keeps nobody in, but the next good fix resets the clock.
            ("17:15", 31.3305, 120.7445, 900.0, None),
            ("17:20", 31.3305, 120.7445, 10.0, None),
            // Out of the gate at 17:30; the bus heads for the old town, kilometres away.
            ("17:30", 31.3290, 120.7445, 10.0, None),
            ("17:35", 31.3150, 120.7000, 30.0, None),
            ("17:40", 31.3000, 120.6200, 25.0, Some(Leave)),
            ("19:00", 31.3000, 120.6200, 25.0, None),
        ]);
        for (hm, lat, lon, accuracy, expected) in script {
            assert_eq!(step(t(hm), lat, lon, accuracy), expected, "at {hm}");
        }
        // Next morning the worker is back.
        let tomorrow = t("07:59") + SignedDuration::from_hours(24);
        assert_eq!(step(tomorrow, 31.3305, 120.7445, 10.0), Some(Enter));
    }

    #[test]
    fn silent_devices_leave_through_the_sweep() {
        let policy = GeofencePolicy::default();
        // Goes home, reports once from far away, then the phone is switched off.
        let mut a = DwellTracker::new(policy);
        assert_eq!(a.observe(t("08:00"), true), Some(Enter));
        assert_eq!(a.observe(t("17:25"), true), None);
        assert_eq!(a.observe(t("17:30"), false), None);
        assert_eq!(a.tick(t("17:39")), None);
        assert_eq!(a.tick(t("17:40")), Some(Leave));
        // Stops reporting while inside: the fix is trusted for 30 min, then unknown counts as
        // outside, and the dwell runs from there (16:00 + 30 min + 10 min).
        let mut b = DwellTracker::new(policy);
        b.observe(t("08:00"), true);
        b.observe(t("16:00"), true);
        assert_eq!(b.leave_deadline(), Some(t("16:40")));
        assert_eq!(b.tick(t("16:39")), None);
        // Restored from storage, the tracker behaves the same.
        let mut restored = DwellTracker::from_state(policy, b.state());
        assert_eq!(restored.tick(t("16:40")), Some(Leave));
        // A stale inside fix followed much later by an outside one leaves at once.
        let mut c = DwellTracker::new(policy);
        c.observe(t("08:00"), true);
        assert_eq!(c.observe(t("09:00"), false), Some(Leave));
        // Out-of-order observations are ignored; outside non-members stay out.
        let mut d = DwellTracker::new(policy);
        assert_eq!(d.observe(t("09:00"), false), None);
        assert_eq!(d.observe(t("08:59"), true), None);
        assert_eq!(d.tick(t("10:00")), None);
        assert_eq!(d.leave_deadline(), None);
        // A broken stored state (member without an inside time) is treated as long stale.
        let broken = DwellState {
            member: true,
            ..Default::default()
        };
        let leave = DwellTracker::from_state(policy, broken).tick(t("08:00"));
        assert_eq!(leave, Some(Leave));
    }
}
