-- P11, small, purpose-built models: month-end stars of the local-model runtimes and interest in the articles.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P11') }}
