-- P14, bring-your-own AI needs digital identity: Federal Register documents, interest and share prices.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P14') }}
