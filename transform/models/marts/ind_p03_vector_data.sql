-- P03, every data platform adds vector data: month-end stars of the vector databases, interest and vendor share prices.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P03') }}
