-- Dynamic membership: channels whose members follow a rule over people's attributes or a
-- geofence, people's latest reported location (opt-in), and each person's dwell state per
-- geofenced channel.

-- How someone became a member: 'manual' (joined, invited, created), 'rule' or 'geofence'.
-- Rules and geofences only ever remove the members they added.
ALTER TABLE channel_members ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';

-- kind 'rule': a MembershipRule; 'geofence': a GeoJSON Polygon or MultiPolygon; 'dlp': the
-- channel's DLP action (overriding the org default).
CREATE TABLE channel_policies (
    channel_id BIGINT  NOT NULL REFERENCES channels(id),
    kind       TEXT    NOT NULL CHECK (kind IN ('rule', 'geofence', 'dlp')),
    body       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (channel_id, kind)
);

ALTER TABLE users ADD COLUMN location_sharing BOOLEAN NOT NULL DEFAULT FALSE;

-- Only the latest report, kept for a short time.
CREATE TABLE user_locations (
    user_id     BIGINT  PRIMARY KEY REFERENCES users(id),
    latitude    DOUBLE PRECISION NOT NULL,
    longitude   DOUBLE PRECISION NOT NULL,
    accuracy_m  DOUBLE PRECISION NOT NULL,
    reported_at BIGINT  NOT NULL
);
CREATE INDEX user_locations_reported ON user_locations(reported_at);

CREATE TABLE geofence_presence (
    user_id    BIGINT  NOT NULL REFERENCES users(id),
    channel_id BIGINT  NOT NULL REFERENCES channels(id),
    state      TEXT    NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);
