-- +goose up
CREATE TYPE owner_kind AS ENUM ('user', 'organization');

CREATE TABLE owners (
    owner_id BIGSERIAL PRIMARY KEY,
    owner_name TEXT NOT NULL,
    owner_kind owner_kind NOT NULL
);

CREATE TABLE repos (
    repo_id BIGSERIAL PRIMARY KEY,
    repo_name TEXT NOT NULL,
    repo_owner_id BIGINT NOT NULL REFERENCES owners(owner_id) ON DELETE CASCADE
);

-- +goose down
DROP TABLE IF EXISTS repos;
DROP TABLE IF EXISTS owners;
DROP TYPE owner_kind;
