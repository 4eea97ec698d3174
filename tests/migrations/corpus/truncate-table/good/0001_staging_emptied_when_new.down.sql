DROP TABLE staging_rates;
