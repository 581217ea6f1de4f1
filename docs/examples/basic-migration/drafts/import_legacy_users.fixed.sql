-- Imports the accounts of the legacy CRM. Two of them never had an email: they get a
-- placeholder address the support team follows up on, then email becomes NOT NULL.
ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT 'signup';
INSERT INTO users (email, full_name, source) VALUES
    ('dee@example.org', 'Dee Okafor', 'legacy-crm'),
    ('legacy-2@invalid.example.org', 'Eli Novak', 'legacy-crm'),
    ('legacy-3@invalid.example.org', 'Fay Dubois', 'legacy-crm');
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
