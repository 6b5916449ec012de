"""Partners (DESIGN §3.8): accounting firms that activate, serve and may pay for their
customers' subscriptions.

The app sits above ``billing`` and ``subscriptions``: it may import them (and ``accounts``,
``severa``), and none of them imports it. Its rows are in ``models``; writes in
``services`` (one module per entity), reads in ``selectors``; the partner portal
(/p/<partner_id>/) in ``views`` and ``billing_views``, the customer's side (its Partners
page, the approval of an activation, the e-mailed links) in ``tenant_views``, the operators'
support requests in ``operator_views``. The organisation itself (``Partner``), its users
(``PartnerMembership``) and its collaborations (``Collaboration``) stay in ``accounts``:
tenancy decides access by them.
"""
