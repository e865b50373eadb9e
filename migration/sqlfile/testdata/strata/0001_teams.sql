-- Teams and their members.
-- +strata description: teams
-- +strata up
CREATE TABLE teams (id int NOT NULL PRIMARY KEY, name varchar(100) NOT NULL);
CREATE TABLE members (team_id int NOT NULL, name varchar(100) NOT NULL);

-- +strata down
DROP TABLE members;
DROP TABLE teams;
