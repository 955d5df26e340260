-- P00, 2023 baseline, ChatGPT makes AI mainstream: mean daily Wikipedia views of every registered P00 article per month.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P00') }}
