-- One row per interest backend, registered term and complete calendar month: the month's total views and its
-- days, so a month's mean daily views is exact even where no day of it was loaded.
select
    source,
    term,
    period,
    views,
    cast(date_diff('day', period, period + interval 1 month) as integer) as days_in_month
from {{ ref('stg_trends__interest_monthly') }}
