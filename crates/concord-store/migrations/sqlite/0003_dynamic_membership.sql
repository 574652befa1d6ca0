-- Dynamic membership: channels whose members follow a rule over people's attributes or a
-- geofence, people's latest reported location (opt-in), and each person's dwell state per
-- geofenced channel.

-- How someone became a member: 'manual' (joined, invited, created), 'rule' or 'geofence'.
-- Rules and geofences only ever remove the members they added.
ALTER TABLE channel_members ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';

-- kind 'rule': a MembershipRule; 'geofence': a GeoJSON Polygon or MultiPolygon; 'dlp': the
-- channel's DLP action (overriding the org default).
CREATE TABLE channel_policies (
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('rule', 'geofence', 'dlp')),
    body       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, kind)
);

ALTER TABLE users ADD COLUMN location_sharing INTEGER NOT NULL DEFAULT 0;

-- Only the latest report, kept for a short time.
CREATE TABLE user_locations (
    user_id     INTEGER PRIMARY KEY REFERENCES users(id),
    latitude    REAL    NOT NULL,
    longitude   REAL    NOT NULL,
    accuracy_m  REAL    NOT NULL,
    reported_at INTEGER NOT NULL
);
CREATE INDEX user_locations_reported ON user_locations(reported_at);

CREATE TABLE geofence_presence (
    user_id    INTEGER NOT NULL REFERENCES users(id),
    channel_id INTEGER NOT NULL REFERENCES channels(id),
    state      TEXT    NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
