-- P08, responsible AI: Federal Register documents per month for the registered terms, and interest in the articles.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P08') }}
