CREATE TABLE audit_log ( -- expect: missing-primary-key
  happened_at timestamptz NOT NULL,
  message text NOT NULL
);
