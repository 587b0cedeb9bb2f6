-- A provider may block a client of their book (issue 13): that client's
-- bookings with the provider are refused (403 client-blocked).
ALTER TABLE clients ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1));
