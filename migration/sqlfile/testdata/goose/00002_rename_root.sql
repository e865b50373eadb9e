-- +goose Up
-- a comment; with a semicolon
UPDATE users SET username='admin' WHERE username='root';

UPDATE users SET name='it''s; fine' WHERE username='admin';

-- +goose Down
-- +goose StatementBegin
UPDATE users SET username='root' WHERE username='admin';
-- +goose StatementEnd
