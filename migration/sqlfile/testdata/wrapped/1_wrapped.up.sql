BEGIN;

CREATE TABLE wrapped (id int);
INSERT INTO wrapped VALUES (1);

COMMIT;
