-- Directory sync: where a person or department came from (`scim`, `ldap`) and its id there
-- (LDAP entryUUID, SCIM externalId). A source's ids are unique; NULLs (local records, SCIM
-- users without an externalId) never collide.

ALTER TABLE users ADD COLUMN external_source TEXT;
ALTER TABLE users ADD COLUMN external_id     TEXT;
CREATE UNIQUE INDEX users_external ON users(external_source, external_id);

ALTER TABLE departments ADD COLUMN external_source TEXT;
ALTER TABLE departments ADD COLUMN external_id     TEXT;
CREATE UNIQUE INDEX departments_external ON departments(external_source, external_id);
