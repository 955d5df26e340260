-- P13, AI products beyond seat-based SaaS: year-to-date price return of every usage-priced and seat-priced ticker
-- per month, its basket's equally weighted average and the usage-minus-seat spread.
with series as (
    select * from {{ indicator_series('P13') }}
),

baskets as (
    select period, role, avg(value) as basket_ytd_return_pct
    from series
    group by period, role
),

spread as (
    select
        period,
        avg(basket_ytd_return_pct) filter (where role = 'usage')
            - avg(basket_ytd_return_pct) filter (where role = 'seat') as usage_minus_seat_pp
    from baskets
    group by period
)

select
    series.*,
    baskets.basket_ytd_return_pct,
    spread.usage_minus_seat_pp
from series
left join baskets on baskets.period = series.period and baskets.role = series.role
left join spread on spread.period = series.period
