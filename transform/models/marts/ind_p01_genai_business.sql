-- P01, generative AI moves to the centre of business: interest, stars and share prices of the registered P01 signals.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P01') }}
