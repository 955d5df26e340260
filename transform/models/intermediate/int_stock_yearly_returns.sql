-- Calendar-year price return per ticker: last close of the year over the last close of the year before.
-- Closes are split-adjusted, so a split inside the year does not distort the return.
with yearly as (
    select
        ticker,
        year(trade_date) as year,
        arg_max(close, trade_date) as year_end_close,
        count(distinct date_trunc('month', trade_date)) as months_covered
    from {{ ref('fct_stock_daily') }}
    where close is not null
    group by all
)

select
    this.ticker,
    this.year,
    prior.year_end_close as prev_year_end_close,
    this.year_end_close,
    100 * (this.year_end_close / prior.year_end_close - 1) as return_pct,
    this.months_covered,
    this.months_covered / 12.0 as coverage
from yearly as this
left join yearly as prior
    on prior.ticker = this.ticker and prior.year = this.year - 1
