-- +goose up

-- +goose statementbegin
CREATE PROCEDURE add_repo(
    IN p_name VARCHAR(255),
    IN p_owner VARCHAR(255),
    IN p_type VARCHAR(20)
)
BEGIN
    DECLARE v_owner BIGINT;

    -- find or create the owner
    SELECT owner_id INTO v_owner FROM owners WHERE owner_name = p_owner AND owner_type = p_type;
    IF v_owner IS NULL THEN
        INSERT INTO owners (owner_name, owner_type) VALUES (p_owner, p_type);
        SET v_owner = LAST_INSERT_ID();
    END IF;

    INSERT INTO repos (repo_name, repo_owner_id) VALUES (p_name, v_owner);
END;
-- +goose statementend

-- +goose down
DROP PROCEDURE IF EXISTS add_repo;
