-- Stand-in for production: 200 customers with personal data, 1,000 orders, 20 products.
-- (run.sh loads it into the "production" database with psql.)
INSERT INTO customers (email, full_name, phone, birth_date)
SELECT format('%s.%s%s@%s', lower(first), lower(last), n, domain),
       format('%s %s', first, last),
       format('+33 6 %s %s %s %s', 10 + n % 90, 20 + n % 79, 30 + n % 69, 10 + n % 89),
       date '1960-01-01' + n * 97
  FROM generate_series(1, 200) AS n,
       LATERAL (SELECT (ARRAY['Ana', 'Bo', 'Cy', 'Dee', 'Eli', 'Fay', 'Gus', 'Hana'])[1 + n % 8] AS first,
                       (ARRAY['Lima', 'Berg', 'Sato', 'Okafor', 'Novak', 'Dubois', 'Rossi'])[1 + n % 7] AS last,
                       (ARRAY['example.org', 'mail.example.com', 'example.net'])[1 + n % 3] AS domain) AS names;
INSERT INTO orders (customer_email, total_cents, shipping_address, client_ip)
SELECT c.email, 500 + n * 37 % 20000, format('%s Rue des Lilas, 69003 Lyon', n % 120),
       format('203.0.113.%s', n % 250)::inet
  FROM generate_series(1, 1000) AS n
  JOIN customers c ON c.id = 1 + n % 200;
INSERT INTO products (name, price_cents)
SELECT format('Jar of jam #%s', n), 350 + n * 25 FROM generate_series(1, 20) AS n;
-- Fresh statistics, as a live database has: the dry run estimates rows from them.
ANALYZE;
