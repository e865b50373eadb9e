CREATE TYPE award AS ENUM (
	'Oscar',
	'Palme d''Or'
);

CREATE TABLE movies (
  user_id   integer,
  name      varchar(40),
  awards    award[]
);
