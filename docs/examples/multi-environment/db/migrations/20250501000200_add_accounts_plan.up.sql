-- Nullable, with a constant default: no rewrite, a brief lock. Low risk.
ALTER TABLE accounts ADD COLUMN plan text DEFAULT 'free';
