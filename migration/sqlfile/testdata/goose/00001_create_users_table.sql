-- +goose Up
CREATE TABLE users (
    id int NOT NULL PRIMARY KEY,
    username varchar(100) NOT NULL,
    name varchar(100),
    surname varchar(100)
);

INSERT INTO users VALUES
(0, 'root', '', ''),
(1, 'vojtechvitek', 'Vojtech', 'Vitek');

-- +goose Down
DROP TABLE users;
