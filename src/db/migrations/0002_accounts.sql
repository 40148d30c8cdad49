-- Accounts: emails are unique whatever their case. The gateway stores them trimmed and
-- lower-cased; this index also covers rows imported from elsewhere, and serves login.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
