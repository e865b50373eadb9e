DELETE FROM accounts;
