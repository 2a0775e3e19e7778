-- The base (x) both sides start from: a small blog with every key style.
CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE TABLE categories (id serial PRIMARY KEY, slug text NOT NULL UNIQUE, title text);
CREATE TABLE posts (id bigserial PRIMARY KEY, user_id int NOT NULL REFERENCES users(id),
                    category_id int REFERENCES categories(id), body text);
CREATE TABLE comments (id serial PRIMARY KEY, post_id bigint NOT NULL REFERENCES posts(id),
                       parent_id int REFERENCES comments(id), body text);
CREATE TABLE tags (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE post_tags (post_id bigint REFERENCES posts(id), tag_id int REFERENCES tags(id),
                        PRIMARY KEY (post_id, tag_id));
-- A multi-column foreign key to a composite key made of foreign keys.
CREATE TABLE post_tag_votes (post_id bigint, tag_id int, voter text,
                             PRIMARY KEY (post_id, tag_id, voter),
                             FOREIGN KEY (post_id, tag_id) REFERENCES post_tags (post_id, tag_id));
CREATE TABLE teams (id serial PRIMARY KEY, name text, captain_id int);
CREATE TABLE players (id serial PRIMARY KEY, team_id int REFERENCES teams(id), name text);
ALTER TABLE teams ADD FOREIGN KEY (captain_id) REFERENCES players(id) DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE documents (id uuid PRIMARY KEY, title text);
CREATE TABLE settings (key text PRIMARY KEY, value text);
CREATE TABLE audit (at text, what text);

INSERT INTO users (email, name) SELECT 'u' || g || '@example.org', 'user ' || g FROM generate_series(1, 10) g;
INSERT INTO categories (slug, title) VALUES ('general', 'General'), ('help', 'Help');
INSERT INTO posts (user_id, category_id, body)
  SELECT 1 + g % 10, 1 + g % 2, E'post ' || g || E'\twith a tab, a backslash \\ and\na newline' FROM generate_series(1, 20) g;
INSERT INTO comments (post_id, parent_id, body) SELECT 1 + g % 20, NULL, 'comment ' || g FROM generate_series(1, 10) g;
INSERT INTO comments (post_id, parent_id, body) VALUES (2, 1, 'a reply');
INSERT INTO tags (name) VALUES ('sql'), ('merge');
INSERT INTO post_tags VALUES (1, 1), (2, 2), (3, 1);
INSERT INTO post_tag_votes VALUES (1, 1, 'ann'), (2, 2, 'bob');
BEGIN;
INSERT INTO teams (name, captain_id) VALUES ('red', 1), ('blue', 2);
INSERT INTO players (team_id, name) VALUES (1, 'ann'), (2, 'bob'), (1, 'cid');
COMMIT;
INSERT INTO documents VALUES ('00000000-0000-4000-8000-000000000001', 'handbook'),
                             ('00000000-0000-4000-8000-000000000002', 'faq');
INSERT INTO settings VALUES ('theme', 'light'), ('lang', 'en');
INSERT INTO audit VALUES ('base', 'created'), ('base', 'created');
