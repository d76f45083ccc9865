"""The shopper's order pages, one module per part (each holds its own ``urlpatterns``):

    cart       the cart
    checkout   contact, fulfilment, review, payment choice
    payments   the payment pages (Stripe Checkout return, the test gateway)
    account    a member's orders, an order by its signed link, the confirmation
    tickets    after-sales service tickets
"""
