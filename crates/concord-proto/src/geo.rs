//! Geofences (GeoJSON polygons attached to a channel) and the location reports clients send.
//!
//! Plain data only; `concord_core::geofence` validates polygons, tests containment and runs the
//! dwell-time state machine.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A GeoJSON (RFC 7946) geometry object of type `Polygon` or `MultiPolygon`.
///
/// A position is `[longitude, latitude]` (an optional third number, altitude, is ignored).
/// A polygon is a list of linear rings: the first is the outer boundary, the others are holes.
/// Each ring is closed (its first and last positions are equal) and has at least four positions.
/// Coordinates are read as planar longitude/latitude, which is accurate for the site-sized
/// areas geofences describe; rings crossing the antimeridian must be split (RFC 7946 §3.1.9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum Geofence {
    Polygon {
        #[schema(value_type = Vec<Vec<Vec<f64>>>, example = json!([[[120.70, 31.30], [120.72, 31.30], [120.72, 31.32], [120.70, 31.32], [120.70, 31.30]]]))]
        coordinates: Vec<Vec<Vec<f64>>>,
        /// Optional GeoJSON bounding box; accepted and ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bbox: Option<Vec<f64>>,
    },
    MultiPolygon {
        coordinates: Vec<Vec<Vec<Vec<f64>>>>,
        /// Optional GeoJSON bounding box; accepted and ignored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bbox: Option<Vec<f64>>,
    },
}

/// `POST /api/v1/me/location`: where the caller's device is now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationReport {
    /// Degrees, -90 to 90 (WGS 84).
    pub latitude: f64,
    /// Degrees, -180 to 180 (WGS 84).
    pub longitude: f64,
    /// Radius of the 68 % confidence circle in metres, as the device reports it.
    pub accuracy_m: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_polygon_and_multipolygon() {
        let p: Geofence =
            serde_json::from_str(r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#)
                .unwrap();
        assert!(
            matches!(p, Geofence::Polygon { ref coordinates, bbox: None } if coordinates[0].len() == 4)
        );
        let m: Geofence = serde_json::from_str(
            r#"{"type":"MultiPolygon","bbox":[0,0,1,1],"coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}"#,
        )
        .unwrap();
        assert!(
            matches!(m, Geofence::MultiPolygon { ref coordinates, .. } if coordinates.len() == 1)
        );
    }

    #[test]
    fn refuses_other_geometries_and_unknown_fields() {
        for bad in [
            r#"{"type":"Point","coordinates":[0,0]}"#,
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"extra":1}"#,
            r#"{"coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}"#,
            r#"{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,0]]}"#,
        ] {
            assert!(
                serde_json::from_str::<Geofence>(bad).is_err(),
                "accepted {bad}"
            );
        }
    }

    #[test]
    fn location_report_is_strict() {
        let r: LocationReport =
            serde_json::from_str(r#"{"latitude":31.3,"longitude":120.7,"accuracy_m":12.5}"#)
                .unwrap();
        assert_eq!(r.accuracy_m, 12.5);
        assert!(
            serde_json::from_str::<LocationReport>(
                r#"{"latitude":31.3,"longitude":120.7,"accuracy_m":1,"speed":3}"#
            )
            .is_err()
        );
    }
}
