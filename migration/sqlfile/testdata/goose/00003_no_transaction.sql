-- +goose NO TRANSACTION
-- +goose Up
CREATE TABLE post (
    id int NOT NULL,
    title varchar(200),
    body text,
    PRIMARY KEY(id)
);

CREATE INDEX post_title ON post (title);

-- +goose Down
DROP TABLE post;
