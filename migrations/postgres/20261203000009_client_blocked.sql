-- A provider may block a client of their book (issue 13): that client's
-- bookings with the provider are refused (403 client-blocked).
ALTER TABLE clients ADD COLUMN blocked boolean NOT NULL DEFAULT false;
