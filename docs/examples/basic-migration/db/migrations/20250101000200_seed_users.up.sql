-- Three accounts every environment starts with.
INSERT INTO users (email, full_name) VALUES
    ('ana@example.org', 'Ana Lima'),
    ('bo@example.org', 'Bo Berg'),
    ('cy@example.org', 'Cy Sato');
