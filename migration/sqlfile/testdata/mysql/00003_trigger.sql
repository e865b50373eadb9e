-- +goose Up
# No StatementBegin: the splitter keeps the BEGIN ... END body whole.
ALTER TABLE repos ADD COLUMN name_len INT NOT NULL DEFAULT 0;

CREATE TRIGGER repos_len BEFORE INSERT ON repos FOR EACH ROW
BEGIN
    IF NEW.repo_name IS NULL THEN
        SET NEW.name_len = 0;
    ELSE
        SET NEW.name_len = CHAR_LENGTH(NEW.repo_name);
    END IF;
END;

CALL add_repo('strata', 'strata-go', 'organization');
INSERT INTO owners (owner_name, owner_type) VALUES ('it\'s; quoted', 'user');

-- +goose Down
DROP TRIGGER repos_len;
ALTER TABLE repos DROP COLUMN name_len;
