-- +goose up
CREATE TABLE owners (
    owner_id BIGINT AUTO_INCREMENT PRIMARY KEY,
    owner_name VARCHAR(255) NOT NULL,
    owner_type ENUM('user', 'organization') NOT NULL
);
CREATE TABLE repos (
    repo_id BIGINT AUTO_INCREMENT PRIMARY KEY,
    repo_name VARCHAR(255) NOT NULL,
    repo_owner_id BIGINT NOT NULL,
    FOREIGN KEY (repo_owner_id) REFERENCES owners(owner_id) ON DELETE CASCADE
);

-- +goose down
DROP TABLE IF EXISTS repos;
DROP TABLE IF EXISTS owners;
