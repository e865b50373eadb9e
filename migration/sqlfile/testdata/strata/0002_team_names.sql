-- +strata requires: 0001_teams
-- +strata no-transaction
-- +strata up
CREATE VIEW team_names AS SELECT name FROM teams;
-- +strata down
DROP VIEW team_names;
