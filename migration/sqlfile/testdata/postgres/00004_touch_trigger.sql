-- +goose Up
-- No StatementBegin: the splitter keeps the $fn$ body whole.
ALTER TABLE repos ADD COLUMN updated_at timestamptz;

CREATE FUNCTION touch() RETURNS trigger AS $fn$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$fn$ LANGUAGE plpgsql;

CREATE TRIGGER repos_touch BEFORE UPDATE ON repos FOR EACH ROW EXECUTE FUNCTION touch();

SELECT add_repo('strata', 'strata-go', 'organization');

-- +goose Down
DROP TRIGGER repos_touch ON repos;
DROP FUNCTION touch();
ALTER TABLE repos DROP COLUMN updated_at;
