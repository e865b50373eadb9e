INSERT INTO accounts (id, email) VALUES (1, 'a@example.com');
INSERT INTO accounts (id, email, city) VALUES (2, 'b@example.com', 'Semi;colon');
