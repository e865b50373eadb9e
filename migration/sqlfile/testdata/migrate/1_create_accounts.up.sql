CREATE TABLE accounts (
  id int NOT NULL PRIMARY KEY,
  email varchar(200) NOT NULL
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);
