DELETE FROM users WHERE email IN ('ana@example.org', 'bo@example.org', 'cy@example.org');
