-- The core banking source system. Its tables (customers, accounts, statements,
-- repayments) come with the demo data generator's migration.
create schema if not exists core;
