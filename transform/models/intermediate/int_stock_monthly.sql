-- Month-end close per ticker, and the return since the last close of the previous year (year to date).
with monthly as (
    select
        ticker,
        cast(date_trunc('month', trade_date) as date) as period,
        arg_max(close, trade_date) as month_end_close,
        count(*) as trading_days
    from {{ ref('fct_stock_daily') }}
    where close is not null
    group by all
)

select
    monthly.ticker,
    monthly.period,
    monthly.month_end_close,
    monthly.trading_days,
    100 * (monthly.month_end_close / prior.year_end_close - 1) as ytd_return_pct
from monthly
left join {{ ref('int_stock_yearly_returns') }} as prior
    on prior.ticker = monthly.ticker and prior.year = year(monthly.period) - 1
