-- +goose up
-- +goose statementbegin
CREATE OR REPLACE FUNCTION add_repo(p_name TEXT, p_owner TEXT, p_kind owner_kind) RETURNS BIGINT AS $$
DECLARE
    v_owner BIGINT;
    v_repo BIGINT;
BEGIN
    -- find or create the owner; a comment with a ; in it
    SELECT owner_id INTO v_owner FROM owners WHERE owner_name = p_owner AND owner_kind = p_kind;
    IF v_owner IS NULL THEN
        INSERT INTO owners (owner_name, owner_kind) VALUES (p_owner, p_kind) RETURNING owner_id INTO v_owner;
    END IF;
    INSERT INTO repos (repo_name, repo_owner_id) VALUES (p_name, v_owner) RETURNING repo_id INTO v_repo;
    RETURN v_repo;
END;
$$ LANGUAGE plpgsql;
-- +goose statementend

-- +goose down
DROP FUNCTION IF EXISTS add_repo(TEXT, TEXT, owner_kind);
