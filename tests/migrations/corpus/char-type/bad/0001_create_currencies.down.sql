DROP TABLE currencies;
