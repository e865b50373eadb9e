-- +goose Up
CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, updated_at TEXT);
CREATE TABLE item_log (item_id INTEGER, note TEXT);

CREATE TRIGGER items_log AFTER UPDATE ON items
BEGIN
    INSERT INTO item_log VALUES (NEW.id, 'renamed; ' || OLD.name);
    UPDATE items SET updated_at = CASE WHEN NEW.name = OLD.name THEN updated_at ELSE datetime('now') END WHERE id = NEW.id;
END;

INSERT INTO items (id, name) VALUES (1, 'a');
UPDATE items SET name = 'b' WHERE id = 1;

-- +goose Down
DROP TABLE item_log;
DROP TABLE items;
