-- Imports the accounts of the legacy CRM. Two of them never had an email, and this version
-- copies them as they are: the email-not-null-hook stops it.
ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT 'signup';
INSERT INTO users (email, full_name, source) VALUES
    ('dee@example.org', 'Dee Okafor', 'legacy-crm'),
    (NULL, 'Eli Novak', 'legacy-crm'),
    (NULL, 'Fay Dubois', 'legacy-crm');
